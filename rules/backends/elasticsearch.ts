/**
 * Backend 2: a detection rule → an Elasticsearch query (DSL) for hunting it over indexed history.
 *
 * Core queries only (the dev node has no scripting): `term`/`wildcard`/`regexp` with `case_insensitive`
 * on keyword fields, `term` with a CIDR on `ip` fields, `range` on numeric fields, `match_phrase` on the
 * analysed `message`, `exists`, and `bool`. Field types come from the store's catalogue (store/fields.ts),
 * the one source of the index mappings; unmapped fields are keywords there. What the index cannot answer
 * without a script (fieldref, numeric comparison of a keyword, date parts) is refused with the reason.
 */
import type { estypes } from '@elastic/elasticsearch';
import ipaddr from 'ipaddr.js';
import { fieldSpec } from '../../store/fields.js';
import type { DetectionRule, FilterRule, PatternPart, SearchExpr, ValueTest } from '../model.js';
import { hasWildcards, literalText } from '../parse/sigma-string.js';
import type { Pipeline } from '../pipeline/pipeline.js';
import { detectionExpr } from '../rule-set.js';
import { toLuceneRegex } from './lucene-regex.js';

type Query = estypes.QueryDslQueryContainer;

export interface BackendOptions {
  pipeline: Pipeline;
  /** Sigma filters to apply (those that name the rule, or `any`). */
  filters?: FilterRule[];
}

const MATCH_ALL: Query = { match_all: {} };
const MATCH_NONE: Query = { match_none: {} };

export function compileToElasticsearch(rule: DetectionRule, options: BackendOptions): Query {
  return exprToQuery(detectionExpr(rule, options.pipeline, options.filters), options.pipeline);
}

export function exprToQuery(expr: SearchExpr, pipeline: Pipeline): Query {
  switch (expr.type) {
    case 'const':
      return expr.value ? MATCH_ALL : MATCH_NONE;
    case 'and':
      return { bool: { filter: expr.items.map((item) => exprToQuery(item, pipeline)) } };
    case 'or':
      return {
        bool: { should: expr.items.map((item) => exprToQuery(item, pipeline)), minimum_should_match: 1 },
      };
    case 'not':
      return { bool: { must_not: [exprToQuery(expr.item, pipeline)] } };
    case 'test': {
      if (expr.field !== null) return testQuery(expr.field, expr.value);
      const fields = (pipeline.keywordFields ?? []).filter((f) => fieldType(f) !== 'stored');
      if (fields.length === 0) throw new Error('keyword search needs a searchable keyword field');
      const items = fields.map((field) => testQuery(field, expr.value));
      return items.length === 1 ? items[0]! : { bool: { should: items, minimum_should_match: 1 } };
    }
  }
}

type Kind = 'keyword' | 'text' | 'ip' | 'number' | 'date' | 'boolean' | 'stored';

function fieldType(field: string): Kind {
  const spec = fieldSpec(field);
  if (!spec) return 'keyword'; // unmapped leaves are keywords (the events template's dynamic templates)
  if (spec.stored) return 'stored';
  switch (spec.type) {
    case 'long':
    case 'double':
      return 'number';
    case 'date':
    case 'date_nanos':
      return 'date';
    default:
      return spec.type;
  }
}

function testQuery(field: string, value: ValueTest): Query {
  const kind = fieldType(field);
  if (kind === 'stored') throw new Error(`${field} is stored but not indexed`);
  switch (value.kind) {
    case 'null':
      return { bool: { must_not: [{ exists: { field } }] } };
    case 'exists':
      return value.value ? { exists: { field } } : { bool: { must_not: [{ exists: { field } }] } };
    case 'string':
      if (value.expand) throw new Error('unresolved %placeholder% (the pipeline has no value for it)');
      return stringQuery(field, kind, value.parts, value.cased);
    case 'number':
      if (kind === 'number') return { term: { [field]: value.value } };
      return stringQuery(field, kind, [String(value.value)], false);
    case 'bool':
      if (kind === 'boolean') return { term: { [field]: value.value } };
      return stringQuery(field, kind, [String(value.value)], false);
    case 'compare': {
      if (value.timePart) throw new Error(`the '${value.timePart}' modifier needs a script`);
      if (kind !== 'number') throw new Error(`numeric comparison on ${field}, which is not a numeric field`);
      if (value.op === 'eq') return { term: { [field]: value.value } };
      return { range: { [field]: { [value.op]: value.value } } };
    }
    case 'cidr':
      if (kind === 'ip') return { term: { [field]: value.cidr } };
      if (kind === 'keyword') return cidrAsWildcards(field, value.cidr);
      throw new Error(`cidr on ${field}, which holds no addresses`);
    case 'regex': {
      if (kind !== 'keyword') throw new Error(`regular expression on ${field}, which is not a keyword field`);
      const lucene = toLuceneRegex(value.source);
      // Sigma regexes with bounded repeats (`.{2,128}`) need more automaton states than Lucene's default.
      const regexp: estypes.QueryDslRegexpQuery = {
        value: lucene.value,
        flags: 'NONE',
        max_determinized_states: 100_000,
      };
      if (value.flags.includes('i') || lucene.caseInsensitive) regexp.case_insensitive = true;
      return { regexp: { [field]: regexp } };
    }
    case 'fieldref':
      throw new Error('fieldref compares two fields of one event, which needs a script');
  }
}

function stringQuery(field: string, kind: Kind, parts: PatternPart[], cased: boolean): Query {
  const wild = hasWildcards(parts);
  switch (kind) {
    case 'keyword': {
      if (!wild)
        return {
          term: { [field]: { value: literalText(parts), ...(cased ? {} : { case_insensitive: true }) } },
        };
      if (parts.length === 1) return { exists: { field } }; // a lone `*`
      return {
        wildcard: { [field]: { value: wildcardText(parts), ...(cased ? {} : { case_insensitive: true }) } },
      };
    }
    case 'text': {
      // An analysed field indexes words, not the value: a phrase of the literal text is the closest query.
      const phrase = parts
        .filter((p): p is string => typeof p === 'string')
        .join(' ')
        .trim();
      if (phrase === '') return { exists: { field } };
      return { match_phrase: { [field]: phrase } };
    }
    case 'ip':
      return ipQuery(field, parts);
    case 'number': {
      if (wild) throw new Error(`wildcard on ${field}, a numeric field`);
      const text = literalText(parts);
      return /^-?\d+(\.\d+)?$/.test(text) ? { term: { [field]: Number(text) } } : MATCH_NONE;
    }
    case 'boolean': {
      const text = literalText(parts).toLowerCase();
      if (wild || (text !== 'true' && text !== 'false')) return MATCH_NONE;
      return { term: { [field]: text === 'true' } };
    }
    case 'date':
      if (wild) throw new Error(`wildcard on ${field}, a date field`);
      return { term: { [field]: literalText(parts) } };
    case 'stored':
      throw new Error(`${field} is not indexed`);
  }
}

/** ES wildcard syntax: `*` and `?`, with `\` escaping literal `*`, `?` and `\`. */
function wildcardText(parts: PatternPart[]): string {
  return parts
    .map((p) => (typeof p === 'string' ? p.replace(/[\\*?]/g, (c) => `\\${c}`) : p.wildcard))
    .join('');
}

/** An `ip` field: an exact address, or an IPv4 prefix of whole octets (`10.1.*`) as a CIDR. */
function ipQuery(field: string, parts: PatternPart[]): Query {
  if (!hasWildcards(parts)) {
    const text = literalText(parts);
    return ipaddr.isValid(text) ? { term: { [field]: text } } : MATCH_NONE;
  }
  const [prefix, star] = parts;
  if (parts.length === 1) return { exists: { field } };
  if (
    parts.length === 2 &&
    typeof prefix === 'string' &&
    typeof star !== 'string' &&
    star?.wildcard === '*'
  ) {
    const octets = prefix.split('.');
    if (octets.length >= 2 && octets.length <= 4 && octets[octets.length - 1] === '') {
      const whole = octets.slice(0, -1);
      if (whole.every((o) => /^\d{1,3}$/.test(o) && Number(o) <= 255)) {
        const address = [...whole, ...Array(4 - whole.length).fill('0')].join('.');
        return { term: { [field]: `${address}/${whole.length * 8}` } };
      }
    }
  }
  throw new Error(
    `wildcard pattern on ${field}, an ip field (only whole-octet IPv4 prefixes like '10.1.*' map to a CIDR)`,
  );
}

/** An IPv4 CIDR over a keyword field: the prefixes it covers, as wildcards (at most 256 of them). */
function cidrAsWildcards(field: string, cidr: string): Query {
  const [address, bits] = ipaddr.parseCIDR(cidr);
  if (address.kind() !== 'ipv4') return ipv6CidrAsText(field, address as ipaddr.IPv6, bits);
  const octets = address.toByteArray();
  const whole = Math.floor(bits / 8);
  const rest = bits % 8;
  const base = octets.slice(0, whole).join('.');
  if (rest === 0) {
    if (whole === 4) return { term: { [field]: base } };
    return whole === 0 ? { exists: { field } } : { wildcard: { [field]: { value: `${base}.*` } } };
  }
  const first = octets[whole]!;
  const count = 1 << (8 - rest);
  const prefixes = Array.from({ length: count }, (_, i) =>
    [base, String(first + i)].filter(Boolean).join('.'),
  );
  const tail = whole + 1 === 4 ? '' : '.*';
  return {
    bool: {
      should: prefixes.map((p) =>
        tail ? { wildcard: { [field]: { value: p + tail } } } : { term: { [field]: p } },
      ),
      minimum_should_match: 1,
    },
  };
}

/**
 * An IPv6 CIDR over a keyword field, for the prefixes text can express: a whole address (/128, as the
 * compressed form), or a prefix inside the first group when that group is written with four digits
 * (fe80::/10, fc00::/7).
 */
function ipv6CidrAsText(field: string, address: ipaddr.IPv6, bits: number): Query {
  if (bits === 128) return { term: { [field]: { value: address.toString(), case_insensitive: true } } };
  const first = address.parts[0]!.toString(16).padStart(4, '0');
  if (bits <= 16 && first[0] !== '0') {
    const fixed = Math.floor(bits / 4);
    let pattern = first.slice(0, fixed);
    const rest = bits % 4;
    let digits = fixed;
    if (rest !== 0) {
      const low = Number.parseInt(first[fixed]!, 16);
      const count = 1 << (4 - rest);
      pattern += `[${Array.from({ length: count }, (_, i) => (low + i).toString(16)).join('')}]`;
      digits++;
    }
    pattern += '[0-9a-f]'.repeat(4 - digits);
    return { regexp: { [field]: { value: `${pattern}:.*`, flags: 'NONE', case_insensitive: true } } };
  }
  throw new Error(`IPv6 cidr ${address.toString()}/${bits} on ${field}, a keyword field`);
}
