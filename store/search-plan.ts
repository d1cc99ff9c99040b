/**
 * An EventSearch checked and normalised once, before either store turns it into its own query: the
 * filters and the analyst query become one checked query tree, time bounds become sort-time text.
 * Both stores therefore accept and refuse the same searches, with the same messages.
 */
import type { EventSearch, RuleCondition } from '../core/ports.js';
import { decodeCursor, type PageCursor, pageSize } from './cursor.js';
import { StoreQueryError } from './errors.js';
import { toSortTime } from './event-document.js';
import { and, type QueryNode } from './query/ast.js';
import { parseQuery } from './query/parse.js';
import { filterLeaf } from './query/values.js';

export interface SearchPlan {
  /** Undefined = all agencies. */
  agencies: string[] | undefined;
  /** Inclusive lower bound, sort-time form. */
  from: string | undefined;
  /** Exclusive upper bound, sort-time form. */
  to: string | undefined;
  /** Filters and query together; `none` when nothing can match. */
  condition: QueryNode;
  /** A compiled Sigma rule (hunting), ANDed with the condition in the store's own form. */
  rule: RuleCondition | undefined;
  limit: number;
  after: PageCursor | undefined;
}

export function planSearch(search: EventSearch): SearchPlan {
  const parts: QueryNode[] = [];
  if (search.agencies !== undefined && search.agencies.length === 0) parts.push({ kind: 'none' });
  for (const [field, value] of Object.entries(search.filters ?? {})) parts.push(filterLeaf(field, value));
  if (search.query !== undefined) parts.push(parseQuery(search.query));
  return {
    agencies: search.agencies,
    from: timeBound(search.time?.from, 'time.from'),
    to: timeBound(search.time?.to, 'time.to'),
    condition: and(parts),
    rule: search.rule,
    limit: pageSize(search.limit),
    after: search.after === undefined ? undefined : decodeCursor(search.after),
  };
}

function timeBound(value: string | number | undefined, name: string): string | undefined {
  if (value === undefined) return undefined;
  const time = toSortTime(value);
  if (time === null)
    throw new StoreQueryError(`${name} ${JSON.stringify(value)} is not an ISO 8601 time or epoch ms`);
  return time;
}
