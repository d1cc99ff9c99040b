/**
 * Query tree → a parameterised SQL condition over the event rows (`events`: see schema.ts). Every value (and every JSON path)
 * is a bound parameter; the SQL text is built only from column names in the catalogue and fixed
 * fragments, so no query can inject into it. Semantics follow Elasticsearch's: a field matches when any
 * of its values matches (arrays included), a missing field matches nothing, and `not` matches documents
 * without the field. SQL's NULLs count as "no match", so `not` is `(x) IS NOT 1`.
 */
import { ipToBytes } from '../ip.js';
import type { FieldRef, PatternPart, QueryNode, RangeOp } from '../query/ast.js';
import { jsonPath } from './json-path.js';
import { ADDRESS_MARK, EVENT_DOC } from './schema.js';

export type SqlValue = string | number | bigint | Buffer | null;

export interface SqlCondition {
  sql: string;
  params: SqlValue[];
}

const COMPARE: Record<RangeOp, string> = { gt: '>', gte: '>=', lt: '<', lte: '<=' };

/**
 * `column IN (?, …)`, a parameter per value; `0` (nothing matches) for no values. The one place the stores
 * write a list of values into SQL: only placeholders go into the text.
 */
export function inList<Value extends SqlValue>(
  column: string,
  values: readonly Value[],
): { sql: string; params: Value[] } {
  if (values.length === 0) return { sql: '0', params: [] };
  return { sql: `${column} IN (${values.map(() => '?').join(', ')})`, params: [...values] };
}

export interface CompileOptions {
  /**
   * Row ids that can hold the search's time range: full-text lookups are bounded to them, so FTS5 reads
   * the posting lists of that slice only instead of every match in the store.
   */
  ridRange?: readonly [number, number];
  /**
   * The search's time range and agency scope: address and CIDR comparisons read the address entries in them
   * (addressRids). Absent, they compare the column alone.
   */
  time?: AddressScope;
}

export interface CompiledCondition extends SqlCondition {
  /** Whether an address or CIDR comparison reads the address entries (addressRids). */
  readsAddresses: boolean;
}

/** What the compile found on its way, shared by every branch (`not` copies the options, not this). */
interface Found {
  addresses: boolean;
}

export function toSqlCondition(node: QueryNode, options: CompileOptions = {}): CompiledCondition {
  const params: SqlValue[] = [];
  const found: Found = { addresses: false };
  const sql = compile(node, params, { ...options, found });
  return { sql, params, readsAddresses: found.addresses };
}

/** Whether the tree has a full-text clause on `message` (the FTS5 index). */
export function hasMessageText(node: QueryNode): boolean {
  switch (node.kind) {
    case 'and':
    case 'or':
      return node.children.some(hasMessageText);
    case 'not':
      return hasMessageText(node.child);
    case 'text':
      return node.field.name === 'message';
    default:
      return false;
  }
}

type Options = CompileOptions & { found: Found };

function compile(node: QueryNode, params: SqlValue[], options: Options): string {
  switch (node.kind) {
    case 'all':
      return '1';
    case 'none':
      return '0';
    case 'and':
      return junction(node.children, 'AND', params, options);
    case 'or':
      return junction(node.children, 'OR', params, options);
    case 'not':
      // Under a NOT the address entries cannot narrow the search: the column is compared there.
      return `(${compile(node.child, params, { ...options, time: undefined })}) IS NOT 1`;
    case 'text':
      return textCondition(node, params, options);
    default:
      return leaf(node, params, options);
  }
}

/** Which address entries a search reads: a time in `[from, to)`, and of these agencies when scoped. */
export interface AddressScope {
  from: string | undefined;
  to: string | undefined;
  agencies?: readonly string[] | undefined;
}

/**
 * The address entries with a time in `[from, to)` (and of the scope's agencies), in two halves that read `event_addresses AS a` and
 * `event_rows AS t`: the entries in each address step overlapping the range (schema.ts ADDRESS_TABLE: one
 * probe a step), and the rows past the address mark, which have no entry yet, by row id (at most
 * ADDRESS_STEP; `+t.ts` and `+t.agency` keep SQLite from reading the whole range or scope through `(ts, id)` or
 * `(agency, ts)` instead). Used in one
 * statement (UNION ALL), the mark is read in it, so a step committed meanwhile neither hides nor repeats a
 * row. Each half's parameters are `from, to` (then the agencies) repeated as its SQL names them.
 */
export function addressesInRange({ from, to, agencies }: AddressScope): {
  stepped: SqlCondition;
  tail: SqlCondition;
} {
  const low = from ?? '';
  const high = to ?? '~';
  // The scope's test on `column`, as a further ` AND`; nothing when unscoped.
  const scopeOn = (column: string): SqlCondition => {
    if (agencies === undefined) return { sql: '', params: [] };
    const scope = inList(column, agencies);
    return { sql: ` AND ${scope.sql}`, params: scope.params };
  };
  const steppedScope = scopeOn('a.agency');
  const tailScope = scopeOn('+t.agency');
  return {
    stepped: {
      sql: `a.step IN (SELECT step FROM address_steps INDEXED BY address_steps_last WHERE last_ts >= ? AND first_ts < ?) AND a.ts >= ? AND a.ts < ?${steppedScope.sql}`,
      params: [low, high, low, high, ...steppedScope.params],
    },
    tail: {
      sql: `t.rid > ${ADDRESS_MARK} AND +t.ts >= ? AND +t.ts < ?${tailScope.sql}`,
      params: [low, high, ...tailScope.params],
    },
  };
}

/** The row ids whose `source_ip` matches (`match`, given the column to compare) in the scope: addressesInRange. */
export function addressRids(match: AddressMatch, scope: AddressScope): SqlCondition {
  const { stepped, tail } = addressesInRange(scope);
  const params: SqlValue[] = [...stepped.params];
  const steppedMatch = match('a.source_ip', params);
  params.push(...tail.params);
  const tailMatch = match('t.source_ip', params);
  return {
    sql: `SELECT a.rid FROM event_addresses AS a WHERE ${stepped.sql} AND ${steppedMatch}
  UNION ALL
  SELECT t.rid FROM event_rows AS t WHERE ${tail.sql} AND ${tailMatch}`,
    params,
  };
}

/** A comparison of `column` (a `source_ip`), its parameters pushed to `params`. */
export type AddressMatch = (column: string, params: SqlValue[]) => string;

/**
 * A condition made of address and CIDR leaves joined by `and`/`or` alone, as one comparison of an address
 * entry's or a row's `source_ip`; undefined for any other tree. Such a condition is true of a row exactly
 * when it is true of the row's address entry (a row without an address has no entry and matches no leaf),
 * so the entries alone answer it. Not under a `not`, which matches rows without an address.
 */
export function addressMatch(node: QueryNode): AddressMatch | undefined {
  if ((node.kind === 'term' || node.kind === 'cidr') && node.field.column === 'source_ip') {
    return (column, params) => predicate(node, column, params);
  }
  if (node.kind !== 'and' && node.kind !== 'or') return undefined;
  const children: AddressMatch[] = [];
  for (const child of node.children) {
    const match = addressMatch(child);
    if (match === undefined) return undefined;
    children.push(match);
  }
  const operator = node.kind === 'and' ? ' AND ' : ' OR ';
  return (column, params) => `(${children.map((match) => match(column, params)).join(operator)})`;
}

type MessageText = Extract<QueryNode, { kind: 'text' }>;

function isMessageText(node: QueryNode): node is MessageText {
  return node.kind === 'text' && node.field.name === 'message' && node.tokens.length > 0;
}

/**
 * `a AND b AND ...` (or OR): the full-text clauses on `message` among the children become one FTS5 query
 * (`"failed password" AND "invalid"`), which FTS5 evaluates far faster than one row-id list per clause.
 */
function junction(
  children: QueryNode[],
  operator: 'AND' | 'OR',
  params: SqlValue[],
  options: Options,
): string {
  const texts = children.filter(isMessageText);
  const parts: string[] = [];
  if (texts.length > 1) {
    parts.push(
      ftsCondition(
        texts.map((text) => ftsQuery(text.tokens, text.prefix)).join(` ${operator} `),
        params,
        options,
      ),
    );
  }
  for (const child of children) {
    if (texts.length > 1 && isMessageText(child)) continue;
    parts.push(compile(child, params, options));
  }
  return `(${parts.join(` ${operator} `)})`;
}

function ftsCondition(match: string, params: SqlValue[], options: CompileOptions): string {
  params.push(match);
  if (options.ridRange === undefined) {
    return 'events.rid IN (SELECT rowid FROM events_fts WHERE events_fts MATCH ?)';
  }
  params.push(options.ridRange[0], options.ridRange[1]);
  return 'events.rid IN (SELECT rowid FROM events_fts WHERE events_fts MATCH ? AND rowid BETWEEN ? AND ?)';
}

export type Leaf = Exclude<QueryNode, { kind: 'all' | 'none' | 'and' | 'or' | 'not' | 'text' }>;

function leaf(node: Leaf, params: SqlValue[], options: Options): string {
  const field = node.field;
  if (field.column === 'source_ip' && (node.kind === 'term' || node.kind === 'cidr') && options.time) {
    // In the leaf, not beside the whole condition: each branch of an OR of addresses then reads the entries.
    const rids = addressRids((column, into) => predicate(node, column, into), options.time);
    params.push(...rids.params);
    options.found.addresses = true;
    return `events.rid IN (${rids.sql})`;
  }
  if (field.column !== undefined) return predicate(node, `events.${field.column}`, params);
  const needle = documentNeedle(node);
  // `doc GLOB '*needle*'` rather than `instr(doc, needle) > 0`: the same test, and SQLite's GLOB scans for
  // the first character where instr calls memcmp at every position (a day of 1M events, 143k documents:
  // 130 vs 300 ms).
  if (needle !== undefined) params.push(`*${globPattern([needle])}*`);
  params.push(jsonPath(field.source ?? field.name));
  const element = elementValue(field);
  const exists = `EXISTS (SELECT 1 FROM json_each(${EVENT_DOC}, ?) AS j WHERE ${predicate(node, element, params)})`;
  return needle === undefined ? exists : `(${EVENT_DOC} GLOB ? AND ${exists})`;
}

/**
 * Text that the stored JSON must contain for the leaf to match, checked with `GLOB` before the document
 * is parsed: most documents are passed over without json_each. Only where the stored form is certain:
 * catalogue keyword fields (the shape check stores their values as strings) and integers of long fields,
 * written by JSON.stringify, which escapes character by character, so the escaped literal of any part of
 * a value occurs in the escaped value.
 */
function documentNeedle(node: Leaf): string | undefined {
  let literal: string | undefined;
  if (node.kind === 'term') {
    if (node.field.type === 'keyword' && typeof node.value === 'string') literal = node.value;
    if (node.field.type === 'long' && Number.isSafeInteger(node.value)) literal = String(node.value);
  } else if (node.kind === 'wildcard' && node.field.type === 'keyword') {
    let run = '';
    literal = '';
    for (const part of node.pattern) {
      if (typeof part === 'string') run += part;
      else run = '';
      if (run.length > literal.length) literal = run;
    }
  }
  if (literal === undefined || literal.length < 2) return undefined;
  return JSON.stringify(literal).slice(1, -1);
}

/** The value ES indexes for one JSON element of the field, or NULL when it indexes none. */
export function elementValue(field: FieldRef): string {
  switch (field.type) {
    case 'ip':
      return 'ip16(j.value)';
    case 'long':
    case 'double':
      return "(CASE WHEN j.type IN ('integer', 'real') THEN j.value END)";
    case 'date':
    case 'date_nanos':
      return 'sort_time(j.value)';
    case 'boolean':
      return "(CASE j.type WHEN 'true' THEN 1 WHEN 'false' THEN 0 END)";
    case 'text':
      return "(CASE WHEN j.type = 'text' THEN j.value END)";
    default:
      return 'keyword_text(j.type, j.value)';
  }
}

/** The leaf's comparison on `value` (a column or an expression), its parameters pushed to `params`. */
export function predicate(node: Leaf, value: string, params: SqlValue[]): string {
  switch (node.kind) {
    case 'term':
      params.push(sqlValue(node.field, node.value));
      return `${value} = ?`;
    case 'range':
      params.push(sqlValue(node.field, node.value));
      return `${value} ${COMPARE[node.op]} ?`;
    case 'cidr':
      params.push(node.first, node.last);
      return `${value} BETWEEN ? AND ?`;
    case 'wildcard':
      params.push(globPattern(node.pattern));
      return `${value} GLOB ?`;
    case 'exists':
      return `${value} IS NOT NULL`;
  }
}

function sqlValue(field: FieldRef, value: string | number | boolean): SqlValue {
  if (field.type === 'ip') return ipToBytes(String(value));
  if (typeof value === 'boolean') return value ? 1 : 0;
  return value;
}

/** SQLite GLOB: `*` and `?` as in Lucene; literal `*`, `?` and `[` go in brackets. */
function globPattern(pattern: PatternPart[]): string {
  let glob = '';
  for (const part of pattern) {
    if (typeof part === 'string') glob += part.replace(/[*?[]/g, (ch) => `[${ch}]`);
    else glob += part.wildcard;
  }
  return glob;
}

/** An FTS5 query of quoted tokens: the analyst's words can never become FTS5 operators. */
export function ftsQuery(tokens: string[], prefix: boolean): string {
  const phrase = `"${tokens.join(' ').replace(/"/g, '""')}"`;
  return prefix ? `${phrase} *` : phrase;
}

function textCondition(
  node: Extract<QueryNode, { kind: 'text' }>,
  params: SqlValue[],
  options: CompileOptions,
): string {
  if (node.tokens.length === 0) return '0';
  if (node.field.name === 'message') return ftsCondition(ftsQuery(node.tokens, node.prefix), params, options);
  // `.text` sub-fields have no FTS index: their values are tokenised per row (slower, same answers).
  params.push(
    jsonPath(node.field.source ?? node.field.name),
    JSON.stringify({ tokens: node.tokens, prefix: node.prefix }),
  );
  return `EXISTS (SELECT 1 FROM json_each(${EVENT_DOC}, ?) AS j WHERE text_match(j.value, ?))`;
}
