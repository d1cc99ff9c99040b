/**
 * An EventSearch checked and normalised once, before either store turns it into its own query: field
 * names validated against the catalogue, values coerced to the field's type, time bounds in sort-time
 * form. Both stores therefore refuse the same searches with the same messages.
 */
import { isIP } from 'node:net';
import type { EventSearch } from '../core/ports.js';
import { decodeCursor, type PageCursor, pageSize } from './cursor.js';
import { StoreQueryError } from './errors.js';
import { toSortTime } from './event-document.js';
import { type FieldSpec, fieldSpec, KEYWORD_IGNORE_ABOVE } from './fields.js';

export interface FieldMatch {
  field: string;
  /** Undefined for an unmapped field (stored as keyword text in both stores). */
  spec: FieldSpec | undefined;
  /** keyword/unmapped: text; long/double: number; ip: address text; date: sort time; boolean: boolean. */
  value: string | number | boolean;
}

export interface SearchPlan {
  /** Undefined = all agencies; an empty list matches nothing. */
  agencies: string[] | undefined;
  /** Inclusive lower bound, sort-time form. */
  from: string | undefined;
  /** Exclusive upper bound, sort-time form. */
  to: string | undefined;
  matches: FieldMatch[];
  /** True when a condition can never hold (e.g. a keyword longer than ES indexes). */
  matchesNothing: boolean;
  limit: number;
  after: PageCursor | undefined;
}

const FIELD_NAME = /^[@A-Za-z0-9_][A-Za-z0-9_@-]*(?:\.[A-Za-z0-9_@-]+)*$/;

export function checkFieldName(field: string, column?: number): void {
  if (field.length > 256 || !FIELD_NAME.test(field)) {
    throw new StoreQueryError(`invalid field name ${JSON.stringify(field.slice(0, 80))}`, column);
  }
}

export function planSearch(search: EventSearch): SearchPlan {
  const plan: SearchPlan = {
    agencies: search.agencies,
    from: timeBound(search.time?.from, 'time.from'),
    to: timeBound(search.time?.to, 'time.to'),
    matches: [],
    matchesNothing: search.agencies !== undefined && search.agencies.length === 0,
    limit: pageSize(search.limit),
    after: search.after === undefined ? undefined : decodeCursor(search.after),
  };
  for (const [field, raw] of Object.entries(search.filters ?? {})) {
    const match = fieldMatch(field, raw);
    if (match === null) plan.matchesNothing = true;
    else plan.matches.push(match);
  }
  return plan;
}

function timeBound(value: string | number | undefined, name: string): string | undefined {
  if (value === undefined) return undefined;
  const time = toSortTime(value);
  if (time === null)
    throw new StoreQueryError(`${name} ${JSON.stringify(value)} is not an ISO 8601 time or epoch ms`);
  return time;
}

/** A checked exact match, or null when the value can never be stored in that field. */
export function fieldMatch(
  field: string,
  raw: string | number | boolean,
  column?: number,
): FieldMatch | null {
  checkFieldName(field, column);
  const spec = fieldSpec(field);
  if (spec?.stored) throw new StoreQueryError(`${field} is stored but not searchable`, column);
  const type = spec?.type ?? 'keyword';
  switch (type) {
    case 'keyword': {
      const value = String(raw);
      return value.length > KEYWORD_IGNORE_ABOVE ? null : { field, spec, value };
    }
    case 'text':
      throw new StoreQueryError(
        `${field} is a full-text field: search its words, not an exact value`,
        column,
      );
    case 'ip': {
      const value = String(raw);
      if (isIP(value) === 0)
        throw new StoreQueryError(`${field} expects an IP address, got ${JSON.stringify(value)}`, column);
      return { field, spec, value };
    }
    case 'long':
    case 'double': {
      const value =
        typeof raw === 'number'
          ? raw
          : typeof raw === 'string' && raw.trim() !== ''
            ? Number(raw)
            : Number.NaN;
      if (!Number.isFinite(value) || (type === 'long' && !Number.isInteger(value))) {
        throw new StoreQueryError(
          `${field} expects ${type === 'long' ? 'an integer' : 'a number'}, got ${JSON.stringify(raw)}`,
          column,
        );
      }
      return { field, spec, value };
    }
    case 'date':
    case 'date_nanos': {
      const value = toSortTime(raw);
      if (value === null)
        throw new StoreQueryError(`${field} expects an ISO 8601 time, got ${JSON.stringify(raw)}`, column);
      return { field, spec, value };
    }
    case 'boolean':
      if (raw === true || raw === 'true') return { field, spec, value: true };
      if (raw === false || raw === 'false') return { field, spec, value: false };
      throw new StoreQueryError(`${field} expects true or false, got ${JSON.stringify(raw)}`, column);
  }
}
