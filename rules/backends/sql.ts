/**
 * Backend 3: a detection rule → a parameterised SQL condition over the embedded store's `events` table,
 * whose `doc` column holds each event as JSON (store/sqlite/schema.ts). Every field is read with
 * `json_each(events.doc, <path>)`, so a field matches when any of its values does (arrays included), as
 * in the matcher and in Elasticsearch; `not` is `(x) IS NOT 1` so a missing field counts as "no match".
 *
 * Values compare as the matcher compares them. SQLite's own `lower()` folds ASCII only, so case-insensitive
 * tests use `sigma_lower` (JavaScript's full Unicode folding), and regular expressions, CIDR and numbers go
 * through a few deterministic functions that `registerSigmaSqlFunctions(db)` installs on the connection.
 */
import type BetterSqlite3 from 'better-sqlite3';
import ipaddr from 'ipaddr.js';
import { timePartOf } from '../matcher/compile.js';
import type { DetectionRule, PatternPart, SearchExpr, TimePart, ValueTest } from '../model.js';
import { hasWildcards, literalText } from '../parse/sigma-string.js';
import type { Pipeline } from '../pipeline/pipeline.js';
import { compileRegex, type SafeRegex } from '../regex.js';
import { detectionExpr } from '../rule-set.js';
import type { BackendOptions } from './elasticsearch.js';

export type SqlParam = string | number | null;

export interface SqlQuery {
  /** A condition for `SELECT ... FROM events WHERE <where>`. */
  where: string;
  params: SqlParam[];
}

const COMPARE: Record<string, string> = { lt: '<', lte: '<=', gt: '>', gte: '>=', eq: '=' };

export function compileToSql(rule: DetectionRule, options: BackendOptions): SqlQuery {
  return exprToSql(detectionExpr(rule, options.pipeline, options.filters), options.pipeline);
}

export function exprToSql(expr: SearchExpr, pipeline: Pipeline): SqlQuery {
  const params: SqlParam[] = [];
  const where = compile(expr, pipeline, params);
  return { where, params };
}

function compile(expr: SearchExpr, pipeline: Pipeline, params: SqlParam[]): string {
  switch (expr.type) {
    case 'const':
      return expr.value ? '1' : '0';
    case 'and':
    case 'or':
      return balanced(
        expr.items.map((item) => compile(item, pipeline, params)),
        expr.type === 'and' ? ' AND ' : ' OR ',
      );
    case 'not':
      return `((${compile(expr.item, pipeline, params)}) IS NOT 1)`;
    case 'test': {
      if (expr.field !== null) return fieldTest(expr.field, expr.value, params);
      if (pipeline.keywordFields === null) {
        // Every leaf value of the document.
        return `EXISTS (SELECT 1 FROM json_tree(events.doc) AS j WHERE j.type NOT IN ('object', 'array') AND ${valuePredicate(expr.value, params)})`;
      }
      return `(${pipeline.keywordFields.map((field) => fieldTest(field, expr.value, params)).join(' OR ')})`;
    }
  }
}

/**
 * Joins conditions in a balanced tree of parentheses: SQLite parses `a OR b OR c ...` as a chain one level
 * deeper per term and refuses more than 1000 levels, which rules with long value lists reach.
 */
function balanced(parts: string[], operator: string): string {
  if (parts.length <= 16) return `(${parts.join(operator)})`;
  const size = Math.ceil(parts.length / 16);
  const groups: string[] = [];
  for (let i = 0; i < parts.length; i += size) groups.push(balanced(parts.slice(i, i + size), operator));
  return `(${groups.join(operator)})`;
}

/** `$."a"."b"` for a dotted field; a field name holding a double quote cannot be addressed. */
export function jsonPathOf(field: string): string {
  if (field.includes('"')) throw new Error(`field name ${field} holds a double quote`);
  return `$.${field
    .split('.')
    .map((part) => `"${part}"`)
    .join('.')}`;
}

function fieldTest(field: string, value: ValueTest, params: SqlParam[]): string {
  switch (value.kind) {
    case 'null':
    case 'exists': {
      params.push(jsonPathOf(field));
      const present = "EXISTS (SELECT 1 FROM json_each(events.doc, ?) AS j WHERE j.type != 'null')";
      return value.kind === 'exists' && value.value ? present : `(NOT ${present})`;
    }
    case 'fieldref': {
      params.push(jsonPathOf(field), jsonPathOf(value.field));
      const a = value.cased ? 'sigma_text(a.type, a.value)' : 'sigma_lower(sigma_text(a.type, a.value))';
      const b = value.cased ? 'sigma_text(b.type, b.value)' : 'sigma_lower(sigma_text(b.type, b.value))';
      const relation =
        value.position === 'exact'
          ? `${a} = ${b}`
          : value.position === 'startswith'
            ? `substr(${a}, 1, length(${b})) = ${b}`
            : value.position === 'endswith'
              ? `(length(${b}) = 0 OR substr(${a}, -length(${b})) = ${b})`
              : `instr(${a}, ${b}) > 0`;
      return `EXISTS (SELECT 1 FROM json_each(events.doc, ?) AS a, json_each(events.doc, ?) AS b WHERE ${relation})`;
    }
    default:
      params.push(jsonPathOf(field));
      return `EXISTS (SELECT 1 FROM json_each(events.doc, ?) AS j WHERE ${valuePredicate(value, params)})`;
  }
}

/** A condition on one JSON element `j` (its `type` and `value` columns). */
function valuePredicate(value: ValueTest, params: SqlParam[]): string {
  const text = 'sigma_text(j.type, j.value)';
  switch (value.kind) {
    case 'string': {
      if (value.expand) throw new Error('unresolved %placeholder% (the pipeline has no value for it)');
      const subject = value.cased ? text : `sigma_lower(${text})`;
      const parts = value.cased ? value.parts : lowerParts(value.parts);
      if (!hasWildcards(parts)) {
        params.push(literalText(parts));
        return `${subject} = ?`;
      }
      params.push(globPattern(parts));
      return `${subject} GLOB ?`;
    }
    case 'number':
      params.push(value.value);
      return 'sigma_number(j.type, j.value) = ?';
    case 'bool':
      params.push(String(value.value));
      return `sigma_lower(${text}) = ?`;
    case 'compare':
      if (value.timePart) {
        params.push(value.timePart, value.value);
        return `sigma_timepart(?, j.type, j.value) ${COMPARE[value.op]} ?`;
      }
      params.push(value.value);
      return `sigma_number(j.type, j.value) ${COMPARE[value.op]} ?`;
    case 'cidr':
      params.push(value.cidr);
      return `sigma_cidr(?, ${text}) = 1`;
    case 'regex':
      params.push(value.source, value.flags);
      return `sigma_regexp(?, ?, ${text}) = 1`;
    case 'null':
    case 'exists':
    case 'fieldref':
      throw new Error(`${value.kind} is a field-level test`);
  }
}

function lowerParts(parts: PatternPart[]): PatternPart[] {
  return parts.map((p) => (typeof p === 'string' ? p.toLowerCase() : p));
}

/** SQLite GLOB: `*` and `?` are wildcards; literal `*`, `?` and `[` go in brackets. */
function globPattern(parts: PatternPart[]): string {
  return parts
    .map((p) => (typeof p === 'string' ? p.replace(/[*?[]/g, (c) => `[${c}]`) : p.wildcard))
    .join('');
}

const NUMERIC = /^\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*$/;

/**
 * The text the matcher compares for a JSON leaf, given `json_type` and the value: strings as they are,
 * numbers and booleans as JSON writes them, anything else none.
 */
export function jsonLeafText(type: unknown, value: unknown): string | null {
  switch (type) {
    case 'text':
      return value as string;
    case 'integer':
    case 'real':
      return String(value);
    case 'true':
    case 'false':
      return type;
    default:
      return null;
  }
}

/** Installs the functions compiled conditions call. Deterministic, so SQLite may cache them per row. */
export function registerSigmaSqlFunctions(db: BetterSqlite3.Database): void {
  const options = { deterministic: true };
  db.function('sigma_text', options, jsonLeafText);
  db.function('sigma_lower', options, (value: unknown) =>
    typeof value === 'string' ? value.toLowerCase() : null,
  );
  db.function('sigma_number', options, (type: unknown, value: unknown) => {
    if (type === 'integer' || type === 'real') return Number(value);
    if (type === 'text' && typeof value === 'string' && NUMERIC.test(value)) return Number(value);
    return null;
  });
  db.function('sigma_timepart', options, (part: unknown, type: unknown, value: unknown) => {
    if (type !== 'text' && type !== 'integer' && type !== 'real') return null;
    const v = type === 'text' ? value : Number(value);
    return timePartOf(v, part as TimePart) ?? null;
  });
  const cidrs = new Map<string, [ipaddr.IPv4 | ipaddr.IPv6, number]>();
  db.function('sigma_cidr', options, (cidr: unknown, value: unknown) => {
    if (typeof cidr !== 'string' || typeof value !== 'string') return 0;
    if (!ipaddr.IPv4.isValidFourPartDecimal(value) && !ipaddr.IPv6.isValid(value)) return 0;
    let range = cidrs.get(cidr);
    if (!range) {
      range = ipaddr.parseCIDR(cidr);
      cidrs.set(cidr, range);
    }
    let address = ipaddr.parse(value);
    if (address.kind() !== range[0].kind()) {
      if (address.kind() !== 'ipv6' || !(address as ipaddr.IPv6).isIPv4MappedAddress()) return 0;
      address = (address as ipaddr.IPv6).toIPv4Address();
    }
    return address.match(range) ? 1 : 0;
  });
  const regexes = new Map<string, SafeRegex>();
  db.function('sigma_regexp', options, (source: unknown, flags: unknown, value: unknown) => {
    if (typeof value !== 'string') return 0;
    const key = `${flags}/${source}`;
    let regex = regexes.get(key);
    if (!regex) {
      regex = compileRegex(String(source), String(flags));
      regexes.set(key, regex);
    }
    return regex.test(value) ? 1 : 0;
  });
}
