/**
 * Paging cursors. Both stores page by keyset on (time, event id), newest first; the cursor carries the
 * last row's sort values (and, in Elasticsearch, the point-in-time id) as opaque base64url JSON.
 */
import { StoreQueryError } from './errors.js';

export interface PageCursor {
  /** Sort values of the last row returned: [time, event id]. */
  sort: [string, string];
  /** Elasticsearch point in time the pages are read from. */
  pit?: string;
  /** Elasticsearch's implicit `_shard_doc` tiebreaker of the last row, when read from a point in time. */
  shardDoc?: number;
}

export function encodeCursor(cursor: PageCursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

export function decodeCursor(text: string): PageCursor {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw new StoreQueryError('invalid paging cursor');
  }
  const cursor = value as Partial<PageCursor> | null;
  if (
    cursor === null ||
    typeof cursor !== 'object' ||
    !Array.isArray(cursor.sort) ||
    cursor.sort.length !== 2 ||
    typeof cursor.sort[0] !== 'string' ||
    typeof cursor.sort[1] !== 'string' ||
    (cursor.pit !== undefined && typeof cursor.pit !== 'string') ||
    (cursor.shardDoc !== undefined && !Number.isSafeInteger(cursor.shardDoc))
  ) {
    throw new StoreQueryError('invalid paging cursor');
  }
  return cursor as PageCursor;
}

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 10_000;

export function pageSize(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) {
    throw new StoreQueryError(`limit must be an integer from 1 to ${MAX_PAGE_SIZE}`);
  }
  return limit;
}
