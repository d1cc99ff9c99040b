/**
 * The Sigma condition language: `and`, `or`, `not`, parentheses, `1 of` / `any of` / `all of` over a name,
 * a `name*` pattern or `them`. Precedence is not > and > or, so `a and not b or not c and d` reads
 * `(a ∧ ¬b) ∨ (¬c ∧ d)`. The pipe aggregations of Sigma v1 (`| count() by x > 5`, `near`) are refused
 * with a pointer to correlation rules, which replaced them.
 */
import type { ConditionNode, SearchExpr } from '../model.js';
import { RuleError, type YamlPath } from './rule-error.js';

type Token = { text: string; offset: number };

function tokenize(condition: string, path: YamlPath): Token[] {
  const tokens: Token[] = [];
  const re = /\(|\)|[^\s()]+/g;
  for (let match = re.exec(condition); match; match = re.exec(condition)) {
    tokens.push({ text: match[0], offset: match.index });
  }
  const pipe = condition.indexOf('|');
  if (pipe >= 0) {
    throw new RuleError(
      `condition '${condition}' uses an aggregation after '|', which Sigma v2 removed: write a correlation rule (event_count, value_count...) instead`,
      path,
    );
  }
  return tokens;
}

export function parseCondition(condition: string, path: YamlPath): ConditionNode {
  const tokens = tokenize(condition, path);
  let position = 0;
  const fail = (why: string): never => {
    const at = tokens[position];
    throw new RuleError(
      `condition '${condition}': ${why}${at ? ` at '${at.text}' (offset ${at.offset})` : ''}`,
      path,
    );
  };
  const peek = (): string | undefined => tokens[position]?.text.toLowerCase();

  const parseOr = (): ConditionNode => {
    const items = [parseAnd()];
    while (peek() === 'or') {
      position++;
      items.push(parseAnd());
    }
    return items.length === 1 ? items[0]! : { type: 'or', items };
  };
  const parseAnd = (): ConditionNode => {
    const items = [parseNot()];
    while (peek() === 'and') {
      position++;
      items.push(parseNot());
    }
    return items.length === 1 ? items[0]! : { type: 'and', items };
  };
  const parseNot = (): ConditionNode => {
    if (peek() === 'not') {
      position++;
      return { type: 'not', item: parseNot() };
    }
    return parsePrimary();
  };
  const parsePrimary = (): ConditionNode => {
    const token = tokens[position];
    if (!token) return fail('unexpected end');
    const word = token.text.toLowerCase();
    if (word === '(') {
      position++;
      const inner = parseOr();
      if (peek() !== ')') fail(`expected ')'`);
      position++;
      return inner;
    }
    if (
      tokens[position + 1]?.text.toLowerCase() === 'of' &&
      (word === '1' || word === 'all' || word === 'any')
    ) {
      position += 2;
      const target = tokens[position];
      if (!target || target.text === '(' || target.text === ')' || isKeyword(target.text)) {
        fail(`'${token.text} of' needs a name, a name* pattern or 'them'`);
      }
      position++;
      return { type: 'of', quantifier: word === 'all' ? 'all' : 'one', pattern: target!.text };
    }
    if (word === ')' || isKeyword(word)) fail(`unexpected '${token.text}'`);
    if (word === 'near') fail(`'near' is a Sigma v1 aggregation: write a temporal correlation rule instead`);
    position++;
    return { type: 'ref', name: token.text };
  };

  if (tokens.length === 0) fail('empty condition');
  const tree = parseOr();
  if (position < tokens.length) fail('unexpected text');
  return tree;
}

function isKeyword(word: string): boolean {
  const w = word.toLowerCase();
  return w === 'and' || w === 'or' || w === 'not' || w === 'of';
}

/** Several conditions (a YAML list) mean any of them. */
export function parseConditions(condition: unknown, path: YamlPath): ConditionNode {
  if (typeof condition === 'string') return parseCondition(condition, path);
  if (Array.isArray(condition) && condition.length > 0) {
    const items = condition.map((c, i) => {
      if (typeof c !== 'string') throw new RuleError('each condition must be a string', [...path, i]);
      return parseCondition(c, [...path, i]);
    });
    return items.length === 1 ? items[0]! : { type: 'or', items };
  }
  throw new RuleError('detection.condition must be a string or a list of strings', path);
}

/** Checks every reference and pattern against the selection names (so a typo fails at load, not at match). */
export function checkCondition(node: ConditionNode, names: string[], path: YamlPath): void {
  switch (node.type) {
    case 'and':
    case 'or':
      for (const item of node.items) checkCondition(item, names, path);
      return;
    case 'not':
      checkCondition(node.item, names, path);
      return;
    case 'ref':
      if (!names.includes(node.name)) {
        throw new RuleError(`condition refers to '${node.name}', which is not a selection`, path);
      }
      return;
    case 'of':
      if (selectionsMatching(node.pattern, names).length === 0) {
        throw new RuleError(`condition: no selection matches '${node.pattern}'`, path);
      }
  }
}

/** Names an `of` pattern covers: `them` is every name not starting with `_`; `*` is a wildcard. */
export function selectionsMatching(pattern: string, names: string[]): string[] {
  if (pattern === 'them') return names.filter((n) => !n.startsWith('_'));
  if (!pattern.includes('*')) return names.filter((n) => n === pattern);
  const re = new RegExp(`^${pattern.split('*').map(escapeRegExp).join('.*')}$`);
  return names.filter((n) => re.test(n));
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The condition with selections substituted: one boolean tree of field tests for the backends. */
export function resolveCondition(node: ConditionNode, selections: Map<string, SearchExpr>): SearchExpr {
  const names = [...selections.keys()];
  switch (node.type) {
    case 'and':
    case 'or':
      return { type: node.type, items: node.items.map((item) => resolveCondition(item, selections)) };
    case 'not':
      return { type: 'not', item: resolveCondition(node.item, selections) };
    case 'ref':
      return selections.get(node.name)!;
    case 'of': {
      const items = selectionsMatching(node.pattern, names).map((name) => selections.get(name)!);
      if (items.length === 1) return items[0]!;
      return { type: node.quantifier === 'all' ? 'and' : 'or', items };
    }
  }
}
