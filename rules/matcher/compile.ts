/**
 * Backend 1: a SearchExpr compiled once into closures over an EventView.
 *
 * Semantics (shared with the Elasticsearch and SQL backends, see docs/rules.md):
 * - a test on a multi-valued field holds when any value satisfies it; `not` negates the whole test, so
 *   `not Image: x` also holds when Image is absent;
 * - strings compare case-insensitively unless `cased`; numbers and booleans compare by their text too;
 * - keyword tests (field null) search the configured keyword fields, or every value of the event.
 */
import ipaddr from 'ipaddr.js';
import type { CompareOp, SearchExpr, TimePart, ValueTest } from '../model.js';
import { compileRegex } from '../regex.js';
import { AhoCorasick } from './aho-corasick.js';
import { allLeaves, type EventView, type FieldTable, stringOf } from './event-view.js';
import { compilePattern } from './wildcard.js';

export type CompiledExpr = (view: EventView) => boolean;

export interface CompileOptions {
  /** Fields a keyword searches; `null` = every value of the event (flat conformance events). */
  keywordFields: string[] | null;
}

const ALL_VALUES = '\u0000all';

export class ExprCompiler {
  constructor(
    readonly fields: FieldTable,
    private readonly options: CompileOptions,
  ) {}

  compile(expr: SearchExpr): CompiledExpr {
    switch (expr.type) {
      case 'const': {
        const value = expr.value;
        return () => value;
      }
      case 'not': {
        const inner = this.compile(expr.item);
        return (view) => !inner(view);
      }
      case 'and': {
        const items = expr.items.map((item) => this.compile(item));
        if (items.length === 2) {
          const [a, b] = items as [CompiledExpr, CompiledExpr];
          return (view) => a(view) && b(view);
        }
        return (view) => {
          for (const item of items) if (!item(view)) return false;
          return true;
        };
      }
      case 'or': {
        const items = this.compileAlternatives(expr.items);
        if (items.length === 2) {
          const [a, b] = items as [CompiledExpr, CompiledExpr];
          return (view) => a(view) || b(view);
        }
        return (view) => {
          for (const item of items) if (item(view)) return true;
          return false;
        };
      }
      case 'test':
        return expr.field === null
          ? this.compileKeyword(expr.value)
          : this.compileTest(expr.field, expr.value);
    }
  }

  /**
   * The items of an `or`, nested `or`s flattened. Case-insensitive `contains` tests of one field, when there
   * are many (Sigma's `CommandLine|contains: [...]` lists run to hundreds of values, e.g. 745 emoji), become
   * one Aho–Corasick pass over the field's lower-cased values instead of one `includes` per value: the same
   * answer (some value holds some literal as a substring), at a cost that no longer grows with the list.
   */
  private compileAlternatives(items: SearchExpr[]): CompiledExpr[] {
    const flat: SearchExpr[] = [];
    const flatten = (item: SearchExpr) => {
      if (item.type === 'or') for (const inner of item.items) flatten(inner);
      else flat.push(item);
    };
    for (const item of items) flatten(item);
    const byField = new Map<string, string[]>();
    for (const item of flat) {
      const literal = containedLiteral(item);
      if (literal === undefined) continue;
      const field = (item as Extract<SearchExpr, { type: 'test' }>).field!;
      const literals = byField.get(field);
      if (literals) literals.push(literal);
      else byField.set(field, [literal]);
    }
    for (const [field, literals] of byField) if (!worthGrouping(literals)) byField.delete(field);
    const compiled: CompiledExpr[] = [];
    const grouped = new Set<string>();
    for (const item of flat) {
      const literal = containedLiteral(item);
      const field =
        literal === undefined ? undefined : (item as Extract<SearchExpr, { type: 'test' }>).field!;
      const literals = field === undefined ? undefined : byField.get(field);
      if (field === undefined || literals === undefined) compiled.push(this.compile(item));
      else if (!grouped.has(field)) {
        // In the place of the group's first test (the order of an `or` does not change its answer).
        grouped.add(field);
        compiled.push(this.containsAny(this.fields.slot(field), literals));
      }
    }
    return compiled;
  }

  /** Automata by word list: pipelines map one Sigma field to several (`CommandLine` → ECS and Winlogbeat). */
  private readonly literalAutomata = new Map<string, AhoCorasick>();

  private containsAny(slot: number, literals: string[]): CompiledExpr {
    const words = [...new Set(literals)].sort();
    const key = words.join('\u0000');
    let automaton = this.literalAutomata.get(key);
    if (!automaton) {
      automaton = new AhoCorasick(words);
      this.literalAutomata.set(key, automaton);
    }
    const found = automaton;
    return (view) => {
      const strings = view.lowerStrings(slot);
      for (let i = 0; i < strings.length; i++) if (found.occursInLowerCase(strings[i]!)) return true;
      return false;
    };
  }

  private compileKeyword(value: ValueTest): CompiledExpr {
    if (this.options.keywordFields === null) {
      const slot = this.fields.slot(ALL_VALUES, allLeaves);
      return this.testSlot(slot, value);
    }
    const tests = this.options.keywordFields.map((field) => this.compileTest(field, value));
    return (view) => {
      for (const test of tests) if (test(view)) return true;
      return false;
    };
  }

  private compileTest(field: string, value: ValueTest): CompiledExpr {
    if (value.kind === 'fieldref') {
      const left = this.fields.slot(field);
      const right = this.fields.slot(value.field);
      return compileFieldRef(left, right, value);
    }
    return this.testSlot(this.fields.slot(field), value);
  }

  /**
   * The leaf tests. Closures loop over the cached values themselves (no callbacks: a `some(v => ...)` would
   * allocate a closure per call, and this runs for every candidate rule on every event).
   */
  private testSlot(slot: number, value: ValueTest): CompiledExpr {
    switch (value.kind) {
      case 'string': {
        if (value.expand) throw new Error('unresolved %placeholder% (the pipeline has no value for it)');
        const predicate = compilePattern(value.parts, !value.cased);
        if (value.cased) {
          return (view) => {
            const strings = view.strings(slot);
            for (let i = 0; i < strings.length; i++) if (predicate(strings[i]!)) return true;
            return false;
          };
        }
        return (view) => {
          const strings = view.lowerStrings(slot);
          for (let i = 0; i < strings.length; i++) if (predicate(strings[i]!)) return true;
          return false;
        };
      }
      case 'regex': {
        const regex = compileRegex(value.source, value.flags);
        return (view) => {
          const strings = view.strings(slot);
          for (let i = 0; i < strings.length; i++) if (regex.test(strings[i]!)) return true;
          return false;
        };
      }
      case 'number': {
        const n = value.value;
        const text = String(n);
        const integer = Number.isSafeInteger(n) && n >= 0;
        return (view) => {
          const values = view.values(slot);
          for (let i = 0; i < values.length; i++) {
            const v = values[i];
            if (v === n) return true;
            if (typeof v !== 'string') continue;
            if (v === text) return true;
            // Plain digits of another spelling than `text` are another number: no need to parse them.
            if (integer && isPlainDigits(v)) continue;
            if (numericText(v) === n) return true;
          }
          return false;
        };
      }
      case 'bool': {
        const bool = value.value;
        const text = String(bool);
        return (view) => {
          const values = view.values(slot);
          for (let i = 0; i < values.length; i++) {
            const v = values[i];
            if (v === bool || (typeof v === 'string' && v.toLowerCase() === text)) return true;
          }
          return false;
        };
      }
      case 'null':
        return (view) => allNull(view.values(slot));
      case 'exists':
        return value.value ? (view) => !allNull(view.values(slot)) : (view) => allNull(view.values(slot));
      case 'compare': {
        const { op, value: bound, timePart } = value;
        const read = timePart ? (v: unknown) => timePartOf(v, timePart) : numberOf;
        return (view) => {
          const values = view.values(slot);
          for (let i = 0; i < values.length; i++) {
            const n = read(values[i]);
            if (n !== undefined && compare(n, op, bound)) return true;
          }
          return false;
        };
      }
      case 'cidr': {
        const range = ipaddr.parseCIDR(value.cidr);
        return (view) => {
          const strings = view.strings(slot);
          for (let i = 0; i < strings.length; i++) if (inCidr(strings[i]!, range)) return true;
          return false;
        };
      }
      case 'fieldref':
        throw new Error('fieldref is compiled with its field');
    }
  }
}

/** Below this many `contains` values of one field in one `or`, one `includes` each is as quick as a scan. */
const MIN_GROUPED_CONTAINS = 8;
/**
 * Largest transition table (states × character classes) built for one list: 2^20 entries, 4 MB. SigmaHQ's
 * emoji lists take 1.2–4.2 MB (745–1,000 values, 190–882 classes: the low surrogates); its list of 4,432
 * `imphash=…` values would take 17 MB (185,529 states) and keeps one `includes` per value, as before.
 */
const MAX_GROUPED_TABLE = 1 << 20;

function worthGrouping(literals: string[]): boolean {
  if (literals.length < MIN_GROUPED_CONTAINS) return false;
  // The automaton's states are the words' distinct prefixes (and the root), its classes their code units.
  const prefixes = new Set<string>();
  const units = new Set<number>();
  for (const literal of literals) {
    for (let i = 0; i < literal.length; i++) {
      units.add(literal.charCodeAt(i));
      prefixes.add(literal.slice(0, i + 1));
    }
    if (prefixes.size * units.size > MAX_GROUPED_TABLE) return false;
  }
  return (prefixes.size + 1) * (units.size + 1) <= MAX_GROUPED_TABLE;
}

/**
 * The lower-cased literal of a case-insensitive `*literal*` test on a field, or undefined for any other
 * test (cased, `?` wildcards, placeholders, keywords, an empty literal: the automaton skips empty words).
 */
function containedLiteral(expr: SearchExpr): string | undefined {
  if (expr.type !== 'test' || expr.field === null) return undefined;
  const v = expr.value;
  if (v.kind !== 'string' || v.cased || v.expand || v.parts.length < 3) return undefined;
  const first = v.parts[0]!;
  const last = v.parts[v.parts.length - 1]!;
  if (typeof first === 'string' || first.wildcard !== '*') return undefined;
  if (typeof last === 'string' || last.wildcard !== '*') return undefined;
  let literal = '';
  for (let i = 1; i < v.parts.length - 1; i++) {
    const part = v.parts[i]!;
    if (typeof part !== 'string') return undefined;
    // Part by part, as compilePattern lower-cases them (lower-casing a join may differ: Greek final sigma).
    literal += part.toLowerCase();
  }
  return literal.length === 0 ? undefined : literal;
}

function allNull(values: unknown[]): boolean {
  for (let i = 0; i < values.length; i++) if (values[i] !== null) return false;
  return true;
}

/** Digits only, no leading zero (one digit may be 0): the canonical text of a non-negative integer. */
function isPlainDigits(text: string): boolean {
  const n = text.length;
  if (n === 0 || n > 15 || (n > 1 && text.charCodeAt(0) === 48)) return false;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

function compileFieldRef(
  left: number,
  right: number,
  value: Extract<ValueTest, { kind: 'fieldref' }>,
): CompiledExpr {
  const check: (a: string, b: string) => boolean =
    value.position === 'startswith'
      ? (a, b) => a.startsWith(b)
      : value.position === 'endswith'
        ? (a, b) => a.endsWith(b)
        : value.position === 'contains'
          ? (a, b) => a.includes(b)
          : (a, b) => a === b;
  return (view) => {
    const as = value.cased ? view.strings(left) : view.lowerStrings(left);
    const bs = value.cased ? view.strings(right) : view.lowerStrings(right);
    for (const a of as) for (const b of bs) if (check(a, b)) return true;
    return false;
  };
}

const NUMERIC = /^\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*$/;

function numericText(text: string): number | undefined {
  return NUMERIC.test(text) ? Number(text) : undefined;
}

function numberOf(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'string') return numericText(value);
  return undefined;
}

function compare(n: number, op: CompareOp, bound: number): boolean {
  switch (op) {
    case 'lt':
      return n < bound;
    case 'lte':
      return n <= bound;
    case 'gt':
      return n > bound;
    case 'gte':
      return n >= bound;
    case 'eq':
      return n === bound;
  }
}

/** A date part (UTC) of an ISO 8601 text or epoch-milliseconds value; undefined when not a date. */
export function timePartOf(value: unknown, part: TimePart): number | undefined {
  const text = stringOf(value);
  if (text === undefined) return undefined;
  const date = typeof value === 'number' ? new Date(value) : new Date(text);
  const time = date.getTime();
  if (Number.isNaN(time)) return undefined;
  switch (part) {
    case 'minute':
      return date.getUTCMinutes();
    case 'hour':
      return date.getUTCHours();
    case 'day':
      return date.getUTCDate();
    case 'month':
      return date.getUTCMonth() + 1;
    case 'year':
      return date.getUTCFullYear();
    case 'week':
      return isoWeek(date);
  }
}

function isoWeek(date: Date): number {
  const d = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));
  const day = d.getUTCDay() || 7;
  d.setUTCDate(d.getUTCDate() + 4 - day);
  const yearStart = Date.UTC(d.getUTCFullYear(), 0, 1);
  return Math.ceil(((d.getTime() - yearStart) / 86_400_000 + 1) / 7);
}

function inCidr(text: string, range: [ipaddr.IPv4 | ipaddr.IPv6, number]): boolean {
  if (!ipaddr.IPv4.isValidFourPartDecimal(text) && !ipaddr.IPv6.isValid(text)) return false;
  let address = ipaddr.parse(text);
  const network = range[0];
  if (address.kind() !== network.kind()) {
    if (address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress()) {
      address = (address as ipaddr.IPv6).toIPv4Address();
    } else {
      return false;
    }
  }
  return address.match(range);
}
