/**
 * The checked syntax tree of an analyst query. The parser resolves every field against the catalogue and
 * every value against the field's type, so the two compilers (Elasticsearch DSL, SQL) only translate:
 * they never see a field or a value that has not been checked.
 */
import type { FieldType } from '../fields.js';

export interface FieldRef {
  /** Dotted name as stored (for a `.text` sub-field: the sub-field name, e.g. `url.original.text`). */
  name: string;
  /** `unmapped`: not in the catalogue; stored as keyword text in both stores. */
  type: FieldType | 'unmapped';
  /** SQLite hot column, when the field has one. */
  column?: string;
  /** For a `.text` sub-field: the keyword field whose values are analysed. */
  source?: string;
}

/** A wildcard pattern: literal runs and the two wildcards. */
export type PatternPart = string | { wildcard: '*' | '?' };

export type RangeOp = 'gt' | 'gte' | 'lt' | 'lte';

export type QueryNode =
  | { kind: 'all' }
  | { kind: 'none' }
  | { kind: 'and'; children: QueryNode[] }
  | { kind: 'or'; children: QueryNode[] }
  | { kind: 'not'; child: QueryNode }
  /** Exact value: keyword text, number, IP text, boolean, or a date as sort-time text. */
  | { kind: 'term'; field: FieldRef; value: string | number | boolean }
  | { kind: 'range'; field: FieldRef; op: RangeOp; value: string | number }
  /** IP block; `first`/`last` are the 16-byte bounds (IPv4 as IPv4-mapped IPv6). */
  | { kind: 'cidr'; field: FieldRef; cidr: string; first: Buffer; last: Buffer }
  | { kind: 'wildcard'; field: FieldRef; pattern: PatternPart[] }
  | { kind: 'exists'; field: FieldRef }
  /**
   * Words in a full-text field: `tokens` as the standard analyzer makes them (SQLite FTS), `text` as the
   * analyst wrote them (Elasticsearch analyses it itself). `prefix`: the single token is a prefix.
   */
  | { kind: 'text'; field: FieldRef; text: string; tokens: string[]; prefix: boolean };

export function and(children: QueryNode[]): QueryNode {
  const flat: QueryNode[] = [];
  for (const child of children) {
    if (child.kind === 'all') continue;
    if (child.kind === 'none') return { kind: 'none' };
    if (child.kind === 'and') flat.push(...child.children);
    else flat.push(child);
  }
  if (flat.length === 0) return { kind: 'all' };
  return flat.length === 1 ? flat[0]! : { kind: 'and', children: flat };
}

export function or(children: QueryNode[]): QueryNode {
  const flat: QueryNode[] = [];
  for (const child of children) {
    if (child.kind === 'none') continue;
    if (child.kind === 'all') return { kind: 'all' };
    if (child.kind === 'or') flat.push(...child.children);
    else flat.push(child);
  }
  if (flat.length === 0) return { kind: 'none' };
  return flat.length === 1 ? flat[0]! : { kind: 'or', children: flat };
}

export function not(child: QueryNode): QueryNode {
  if (child.kind === 'all') return { kind: 'none' };
  if (child.kind === 'none') return { kind: 'all' };
  if (child.kind === 'not') return child.child;
  return { kind: 'not', child };
}
