/**
 * Necessary conditions of a rule's condition, for the prefilter: conditions that must hold on any event
 * the rule matches (sound: they may let through a rule that then does not match, never hold back one that
 * would), cheap to check for many rules at once.
 * - Routes: "some field of these has one of these values" (logsource routing falls out of them, since
 *   pipelines select events by channel, event code, module or category).
 * - Literals: "one of these strings occurs, lower-cased, in one of these fields", from the literal pieces
 *   of string patterns.
 */
import type { SearchExpr } from '../model.js';

/** The key a value has in the field/value index: numbers canonical, text lower-cased. */
const NUMERIC = /^\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*$/;
export function valueKey(value: unknown): string | undefined {
  switch (typeof value) {
    case 'number':
      return String(value);
    case 'boolean':
      return String(value);
    case 'string':
      return NUMERIC.test(value) ? String(Number(value)) : value.toLowerCase();
    default:
      return undefined;
  }
}

/**
 * A route: "some field of the map has a value with one of its keys". A rule is indexed under every
 * (field, key) of one of its necessary routes, so it is tried only on events that carry one of them.
 */
export type Route = Map<string, Set<string>>;

/** The key of an equality test (whole value, no wildcard), or undefined. */
function equalityKey(expr: SearchExpr): string | undefined {
  if (expr.type !== 'test' || expr.field === null) return undefined;
  const v = expr.value;
  if (v.kind === 'string' && !v.expand && v.parts.every((p) => typeof p === 'string')) {
    return valueKey((v.parts as string[]).join(''));
  }
  if (v.kind === 'number' || v.kind === 'bool') return String(v.value);
  return undefined;
}

/** Every equality test's field and key (to learn how finely each field splits the rules). */
export function collectKeys(expr: SearchExpr, into: Map<string, Set<string>>): void {
  if (expr.type === 'and' || expr.type === 'or') for (const item of expr.items) collectKeys(item, into);
  else if (expr.type === 'test') {
    const key = equalityKey(expr);
    if (key === undefined) return;
    let keys = into.get(expr.field!);
    if (!keys) {
      keys = new Set();
      into.set(expr.field!, keys);
    }
    keys.add(key);
  }
}

/**
 * Chooses routes: fewer (field, key) pairs first (each pair lets more events through), then fields that
 * split the rules finely (`event.code` over `winlog.channel`, which nearly every Windows rule shares).
 */
export class RoutePlanner {
  constructor(private readonly distinct: Map<string, Set<string>>) {}

  private score(route: Route): number {
    let pairs = 0;
    let finest = Number.POSITIVE_INFINITY;
    for (const [field, keys] of route) {
      pairs += keys.size;
      finest = Math.min(finest, this.distinct.get(field)?.size ?? 0);
    }
    return pairs * 1e6 - Math.min(finest, 1e6 - 1);
  }

  best(routes: Route[]): Route | undefined {
    let best: Route | undefined;
    let bestScore = Number.POSITIVE_INFINITY;
    for (const route of routes) {
      const score = this.score(route);
      if (score < bestScore) {
        best = route;
        bestScore = score;
      }
    }
    return best;
  }

  /** Necessary routes of the expression (each one alone is necessary). */
  routes(expr: SearchExpr): Route[] {
    switch (expr.type) {
      case 'test': {
        const key = equalityKey(expr);
        return key === undefined ? [] : [new Map([[expr.field!, new Set([key])]])];
      }
      case 'and':
        return expr.items.flatMap((item) => this.routes(item));
      case 'or': {
        // Any branch may hold: one route per branch, merged (`EventID: 4625` mapped to `event.code` or
        // `winlog.event_id` routes by both).
        const merged: Route = new Map();
        for (const item of expr.items) {
          const route = this.best(this.routes(item));
          if (!route) return [];
          for (const [field, keys] of route) {
            const into = merged.get(field);
            if (into) for (const key of keys) into.add(key);
            else merged.set(field, new Set(keys));
          }
        }
        return merged.size > 0 ? [merged] : [];
      }
      default:
        return [];
    }
  }
}

export interface LiteralSet {
  /** Taken from whole-value (equality) tests: the field/value index already covers those better. */
  exact: boolean;
  literals: Set<string>;
  /** Fields the literals must occur in; null = keyword search (the keyword fields). */
  fields: Set<string | null>;
}

const MIN_LITERAL = 3;
/**
 * Literals are cut to their last characters: a piece of a necessary literal is necessary too, and short
 * words keep the automaton small. The end is kept because it is the distinctive part of paths and
 * commands (`...\\powershell.exe`, `... -encodedcommand`).
 */
const MAX_LITERAL = 12;
const MAX_LITERALS_PER_RULE = 5_000;

/** Literals one of which must occur (lower-cased) in one of the fields for the expression to hold. */
export function necessaryLiterals(expr: SearchExpr): LiteralSet | undefined {
  switch (expr.type) {
    case 'test': {
      const v = expr.value;
      // Case-sensitive tests are left out: lower-casing is not quite context-free (Greek final sigma).
      if (v.kind !== 'string' || v.expand || v.cased) return undefined;
      let longest = '';
      for (const part of v.parts)
        if (typeof part === 'string' && part.length > longest.length) longest = part;
      if (longest.length < MIN_LITERAL) return undefined;
      const exact = v.parts.every((p) => typeof p === 'string');
      const literal = longest.toLowerCase().slice(-MAX_LITERAL);
      return { exact, literals: new Set([literal]), fields: new Set([expr.field]) };
    }
    case 'and': {
      let best: LiteralSet | undefined;
      for (const item of expr.items) {
        const candidate = necessaryLiterals(item);
        if (candidate && (!best || score(candidate) > score(best))) best = candidate;
      }
      return best;
    }
    case 'or': {
      const literals = new Set<string>();
      const fields = new Set<string | null>();
      let exact = true;
      for (const item of expr.items) {
        const set = necessaryLiterals(item);
        if (!set) return undefined;
        for (const l of set.literals) literals.add(l);
        for (const f of set.fields) fields.add(f);
        exact &&= set.exact;
      }
      return literals.size > MAX_LITERALS_PER_RULE ? undefined : { exact, literals, fields };
    }
    default:
      return undefined;
  }
}

/** Substring literals before equality ones (the index handles those); then longer and fewer filter better. */
function score(set: LiteralSet): number {
  let shortest = Number.POSITIVE_INFINITY;
  for (const l of set.literals) shortest = Math.min(shortest, l.length);
  return (set.exact ? 0 : 1e9) + Math.min(shortest, 100) * 10_000 - set.literals.size;
}
