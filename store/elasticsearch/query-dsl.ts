/**
 * Query tree → Elasticsearch query DSL. Values travel as JSON values inside term/range/wildcard objects,
 * never as query-string syntax, so no input can change the query's structure. Everything is in filter
 * context: analysts sort by time, not by score.
 */
import type { estypes } from '@elastic/elasticsearch';
import ipaddr from 'ipaddr.js';
import type { PatternPart, QueryNode } from '../query/ast.js';

type Query = estypes.QueryDslQueryContainer;

const MATCH_ALL: Query = { match_all: {} };
const MATCH_NONE: Query = { match_none: {} };
const TIME_FORMAT = 'strict_date_optional_time_nanos';

export function toElasticsearchQuery(node: QueryNode): Query {
  switch (node.kind) {
    case 'all':
      return MATCH_ALL;
    case 'none':
      return MATCH_NONE;
    case 'and':
      return { bool: { filter: node.children.map(toElasticsearchQuery) } };
    case 'or':
      return { bool: { should: node.children.map(toElasticsearchQuery), minimum_should_match: 1 } };
    case 'not':
      return { bool: { must_not: [toElasticsearchQuery(node.child)] } };
    case 'term':
      if (node.field.type === 'date' || node.field.type === 'date_nanos') {
        return { range: { [node.field.name]: { gte: node.value, lte: node.value, format: TIME_FORMAT } } };
      }
      return { term: { [node.field.name]: { value: node.value } } };
    case 'range': {
      const isDate = node.field.type === 'date' || node.field.type === 'date_nanos';
      return {
        range: { [node.field.name]: { [node.op]: node.value, ...(isDate ? { format: TIME_FORMAT } : {}) } },
      };
    }
    case 'cidr':
      // A range on the 16-byte bounds: ES refuses CIDR notation on IPv4-mapped addresses (`::ffff:0:0/96`).
      return {
        range: {
          [node.field.name]: {
            gte: ipaddr.fromByteArray([...node.first]).toString(),
            lte: ipaddr.fromByteArray([...node.last]).toString(),
          },
        },
      };
    case 'wildcard':
      return { wildcard: { [node.field.name]: { value: wildcardText(node.pattern) } } };
    case 'exists':
      return { exists: { field: node.field.name } };
    case 'text':
      if (node.tokens.length === 0) return MATCH_NONE;
      if (node.prefix) return { prefix: { [node.field.name]: { value: node.tokens[0]! } } };
      return { match_phrase: { [node.field.name]: { query: node.text, slop: 0 } } };
  }
}

/** Lucene wildcard syntax: `*`, `?`, and `\` escaping literal wildcards and backslashes. */
function wildcardText(pattern: PatternPart[]): string {
  let text = '';
  for (const part of pattern) {
    if (typeof part === 'string') text += part.replace(/[\\*?]/g, (ch) => `\\${ch}`);
    else text += part.wildcard;
  }
  return text;
}
