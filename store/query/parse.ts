/**
 * The analyst query language (KQL-like), parsed into a checked tree:
 *
 *   query    := or
 *   or       := and ("or" and)*
 *   and      := unary (["and"] unary)*          adjacent clauses are ANDed
 *   unary    := "not" unary | primary
 *   primary  := "(" or ")" | FIELD ":" value | FIELD ":" "(" values ")" | FIELD CMP value | WORD | "PHRASE"
 *   CMP      := ">" | ">=" | "<" | "<="
 *
 * A value is a "quoted string" (literal) or a run of unquoted characters in which `*` and `?` are
 * wildcards and `\` escapes the next character; `2001:db8::1` and `2025-03-01T10:00:00Z` are single values.
 * Bare words and phrases search `message`. Errors carry the 1-based column.
 */
import { StoreQueryError } from '../errors.js';
import { and, type FieldRef, not, or, type PatternPart, type QueryNode, type RangeOp } from './ast.js';
import { exactLeaf, type FieldPolicy, patternLeaf, rangeLeaf, resolveField } from './values.js';

export const MAX_QUERY_LENGTH = 8192;
const MAX_DEPTH = 32;
const MAX_CLAUSES = 512;

type TokenType = 'word' | 'quoted' | 'lparen' | 'rparen' | 'colon' | 'cmp' | 'end';

interface Token {
  type: TokenType;
  /** Unescaped text (for words: wildcards as typed). */
  text: string;
  /** For words: the value with wildcards marked; escaped `*`/`?` are literal. */
  pattern: PatternPart[];
  /** 0-based offsets in the query. */
  start: number;
  end: number;
  /** A word with backslash escapes is never an operator or a field name. */
  escaped: boolean;
}

const SPECIAL = new Set(['(', ')', '"', ':', '<', '>']);

function isSpace(ch: string): boolean {
  return (
    ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r' || ch === '\f' || ch === '\v' || ch === '\u00a0'
  );
}

function tokenize(query: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const simple = (type: TokenType, text: string) => {
    tokens.push({ type, text, pattern: [text], start: i, end: i + text.length, escaped: false });
    i += text.length;
  };
  while (i < query.length) {
    const ch = query[i]!;
    if (isSpace(ch)) {
      i++;
    } else if (ch === '(') simple('lparen', ch);
    else if (ch === ')') simple('rparen', ch);
    else if (ch === ':') simple('colon', ch);
    else if (ch === '<' || ch === '>') simple('cmp', query[i + 1] === '=' ? `${ch}=` : ch);
    else if (ch === '"') {
      const start = i;
      let text = '';
      i++;
      for (;;) {
        if (i >= query.length) throw new StoreQueryError('unterminated quoted string', start + 1);
        const c = query[i]!;
        if (c === '\\' && i + 1 < query.length) {
          text += query[i + 1];
          i += 2;
        } else if (c === '"') {
          i++;
          break;
        } else {
          text += c;
          i++;
        }
      }
      tokens.push({ type: 'quoted', text, pattern: [text], start, end: i, escaped: true });
    } else {
      const start = i;
      const pattern: PatternPart[] = [];
      let literal = '';
      let text = '';
      let escaped = false;
      while (i < query.length && !isSpace(query[i]!) && !SPECIAL.has(query[i]!)) {
        const c = query[i]!;
        if (c === '\\') {
          if (i + 1 >= query.length) throw new StoreQueryError('a backslash must escape a character', i + 1);
          literal += query[i + 1];
          text += query[i + 1];
          escaped = true;
          i += 2;
        } else if (c === '*' || c === '?') {
          if (literal !== '') pattern.push(literal);
          literal = '';
          pattern.push({ wildcard: c });
          text += c;
          i++;
        } else {
          literal += c;
          text += c;
          i++;
        }
      }
      if (literal !== '') pattern.push(literal);
      tokens.push({ type: 'word', text, pattern, start, end: i, escaped });
    }
  }
  tokens.push({ type: 'end', text: '', pattern: [], start: query.length, end: query.length, escaped: false });
  return tokens;
}

function keyword(token: Token): 'and' | 'or' | 'not' | undefined {
  if (token.type !== 'word' || token.escaped || token.pattern.length !== 1) return undefined;
  const lower = token.text.toLowerCase();
  return lower === 'and' || lower === 'or' || lower === 'not' ? lower : undefined;
}

const OPS: Record<string, RangeOp> = { '>': 'gt', '>=': 'gte', '<': 'lt', '<=': 'lte' };

export interface ParseOptions extends FieldPolicy {
  /** Field searched by bare words and phrases. */
  defaultField?: string;
}

class Parser {
  #tokens: Token[];
  #position = 0;
  #depth = 0;
  #clauses = 0;
  readonly #options: ParseOptions;
  readonly #defaultField: FieldRef;

  constructor(query: string, options: ParseOptions) {
    this.#tokens = tokenize(query);
    this.#options = options;
    this.#defaultField = resolveField(options.defaultField ?? 'message', undefined, options);
  }

  parse(): QueryNode {
    if (this.#peek().type === 'end') return { kind: 'all' };
    const node = this.#or(undefined);
    const next = this.#peek();
    if (next.type !== 'end') {
      throw new StoreQueryError(
        next.type === 'rparen' ? 'unbalanced )' : `unexpected ${describe(next)}`,
        next.start + 1,
      );
    }
    return node;
  }

  #peek(offset = 0): Token {
    return this.#tokens[Math.min(this.#position + offset, this.#tokens.length - 1)]!;
  }

  #next(): Token {
    const token = this.#peek();
    if (token.type !== 'end') this.#position++;
    return token;
  }

  /** `field` is set inside `field:( ... )`, where clauses are values of that field. */
  #or(field: FieldRef | undefined): QueryNode {
    const children = [this.#and(field)];
    while (keyword(this.#peek()) === 'or') {
      this.#next();
      children.push(this.#and(field));
    }
    return or(children);
  }

  #and(field: FieldRef | undefined): QueryNode {
    const children = [this.#unary(field)];
    for (;;) {
      const token = this.#peek();
      const word = keyword(token);
      if (word === 'and') {
        this.#next();
        children.push(this.#unary(field));
      } else if (token.type === 'end' || token.type === 'rparen' || word === 'or') {
        return and(children);
      } else {
        children.push(this.#unary(field));
      }
    }
  }

  #unary(field: FieldRef | undefined): QueryNode {
    const token = this.#peek();
    if (keyword(token) === 'not') {
      this.#next();
      this.#enter(token);
      const child = this.#unary(field);
      this.#depth--;
      return not(child);
    }
    return this.#primary(field);
  }

  #enter(token: Token): void {
    if (++this.#depth > MAX_DEPTH)
      throw new StoreQueryError(`query nested deeper than ${MAX_DEPTH}`, token.start + 1);
  }

  #primary(field: FieldRef | undefined): QueryNode {
    const token = this.#next();
    if (++this.#clauses > MAX_CLAUSES)
      throw new StoreQueryError(`query has more than ${MAX_CLAUSES} clauses`, token.start + 1);
    switch (token.type) {
      case 'lparen': {
        this.#enter(token);
        const inner = this.#or(field);
        const close = this.#next();
        if (close.type !== 'rparen') throw new StoreQueryError('missing )', close.start + 1);
        this.#depth--;
        return inner;
      }
      case 'quoted':
        return exactLeaf(field ?? this.#defaultField, token.text, true, token.start + 1);
      case 'word': {
        if (keyword(token) !== undefined) {
          throw new StoreQueryError(`${token.text} needs a clause after it`, token.start + 1);
        }
        const after = this.#peek();
        if (field === undefined && (after.type === 'colon' || after.type === 'cmp')) {
          return this.#fieldClause(token);
        }
        return this.#valueLeaf(field ?? this.#defaultField, this.#valueFrom(token), token.start + 1);
      }
      case 'colon':
        // Inside field:( ... ) a value may start with a colon (`::1`).
        if (field !== undefined) return this.#valueLeaf(field, this.#valueFrom(token), token.start + 1);
        throw new StoreQueryError('a colon must follow a field name', token.start + 1);
      case 'end':
        throw new StoreQueryError('query ends where a clause was expected', token.start + 1);
      default:
        throw new StoreQueryError(`unexpected ${describe(token)}`, token.start + 1);
    }
  }

  #fieldClause(nameToken: Token): QueryNode {
    if (nameToken.escaped || nameToken.pattern.some((part) => typeof part !== 'string')) {
      throw new StoreQueryError(`invalid field name ${JSON.stringify(nameToken.text)}`, nameToken.start + 1);
    }
    const field = resolveField(nameToken.text, nameToken.start + 1, this.#options);
    const operator = this.#next();
    const valueToken = this.#peek();
    if (operator.type === 'cmp') {
      if (valueToken.type !== 'word' && valueToken.type !== 'quoted') {
        throw new StoreQueryError(`${operator.text} needs a value`, valueToken.start + 1);
      }
      this.#next();
      const value = valueToken.type === 'quoted' ? valueToken.text : this.#valueFrom(valueToken).text;
      return rangeLeaf(field, OPS[operator.text]!, value, valueToken.start + 1);
    }
    if (valueToken.type === 'lparen') {
      this.#next();
      this.#enter(valueToken);
      const inner = this.#or(field);
      const close = this.#next();
      if (close.type !== 'rparen') throw new StoreQueryError('missing )', close.start + 1);
      this.#depth--;
      return inner;
    }
    if (valueToken.type === 'quoted') {
      this.#next();
      return exactLeaf(field, valueToken.text, true, valueToken.start + 1);
    }
    if (valueToken.type === 'word' || valueToken.type === 'colon') {
      const first = this.#next();
      return this.#valueLeaf(field, this.#valueFrom(first), first.start + 1);
    }
    throw new StoreQueryError(`${field.name}: needs a value`, valueToken.start + 1);
  }

  /** Joins a word with directly adjacent `:`s and words (IPv6 addresses, times) into one value. */
  #valueFrom(first: Token): { text: string; pattern: PatternPart[] } {
    let text = first.text;
    const pattern: PatternPart[] = [...first.pattern];
    let end = first.end;
    for (;;) {
      const next = this.#peek();
      if (next.start !== end || (next.type !== 'colon' && next.type !== 'word')) break;
      this.#next();
      text += next.text;
      for (const part of next.pattern) {
        const last = pattern[pattern.length - 1];
        if (typeof part === 'string' && typeof last === 'string') pattern[pattern.length - 1] = last + part;
        else pattern.push(part);
      }
      end = next.end;
    }
    return { text, pattern };
  }

  #valueLeaf(field: FieldRef, value: { text: string; pattern: PatternPart[] }, column: number): QueryNode {
    const hasWildcard = value.pattern.some((part) => typeof part !== 'string');
    if (hasWildcard) return patternLeaf(field, value.pattern, column);
    return exactLeaf(field, value.pattern.join(''), false, column);
  }
}

function describe(token: Token): string {
  switch (token.type) {
    case 'end':
      return 'end of query';
    case 'quoted':
      return 'quoted string';
    default:
      return JSON.stringify(token.text);
  }
}

export function parseQuery(query: string, options: ParseOptions = {}): QueryNode {
  if (query.length > MAX_QUERY_LENGTH) {
    throw new StoreQueryError(`query longer than ${MAX_QUERY_LENGTH} characters`, MAX_QUERY_LENGTH + 1);
  }
  return new Parser(query, options).parse();
}
