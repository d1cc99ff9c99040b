/**
 * Cursors and bounds shared by the API-owned stores (audit, incident queries) of both adapters: opaque
 * base64url JSON of the last row's sort values, refused with a query error when tampered with.
 */
import { StoreQueryError } from './errors.js';

export const MAX_AUDIT_PAGE = 1000;
export const MAX_INCIDENT_PAGE = 1000;

export function encodeSortCursor(values: (string | number)[]): string {
  return Buffer.from(JSON.stringify(values)).toString('base64url');
}

/** The sort values of a cursor: `count` strings or numbers. */
export function decodeSortCursor(text: string, count: number): (string | number)[] {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw new StoreQueryError('invalid paging cursor');
  }
  if (
    !Array.isArray(value) ||
    value.length !== count ||
    !value.every((item) => typeof item === 'string' || (typeof item === 'number' && Number.isFinite(item)))
  ) {
    throw new StoreQueryError('invalid paging cursor');
  }
  return value as (string | number)[];
}

/** An audit cursor: [time as ISO text, entry id]. */
export function decodeAuditCursor(text: string): [string, string] {
  const [at, id] = decodeSortCursor(text, 2);
  if (typeof at !== 'string' || typeof id !== 'string') throw new StoreQueryError('invalid paging cursor');
  return [at, id];
}

export const encodeAuditCursor = (values: [string, string]) => encodeSortCursor(values);

/** A time bound (ISO text or epoch ms) as ISO text in UTC with milliseconds, or undefined. */
export function timeBound(value: string | number | undefined): string | undefined {
  if (value === undefined) return undefined;
  const ms = typeof value === 'number' ? value : Date.parse(value);
  if (!Number.isFinite(ms)) throw new StoreQueryError(`invalid time ${String(value)}`);
  return new Date(ms).toISOString();
}

export function checkPageLimit(limit: number | undefined, max: number, fallback = 50): number {
  if (limit === undefined) return fallback;
  if (!Number.isInteger(limit) || limit < 1 || limit > max) {
    throw new StoreQueryError(`limit must be an integer from 1 to ${max}`);
  }
  return limit;
}
