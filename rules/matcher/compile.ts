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
        const items = expr.items.map((item) => this.compile(item));
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
