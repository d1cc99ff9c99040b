/**
 * The shape check both stores run before writing an event. Elasticsearch rejects a document whose values
 * do not fit the mapping; SQLite would accept anything. Checking (and coercing) here, once, against the
 * field catalogue makes both stores accept and reject the same documents, and store the same values:
 * a rejected event goes to the dead-letter store with the reason, never silently away.
 */
import { isIP } from 'node:net';
import type { SecurityEvent } from '../core/model.js';
import { EVENT_FIELDS, type FieldSpec, fieldSpec, KEYWORD_IGNORE_ABOVE } from './fields.js';

export interface PreparedEvent {
  /** The document to store: dotted keys expanded, catalogue values coerced to their types. */
  document: SecurityEvent;
  id: string;
  /** `@timestamp` in fixed-width UTC with nanoseconds: sorts and compares as text. */
  sortTime: string;
}

export type Prepared = { ok: true; event: PreparedEvent } | { ok: false; reason: string };

/** Objects in the catalogue (`source`, `log.syslog`, ...): a scalar there is a mapping conflict in ES. */
const objectPaths = new Set<string>();

for (const field of EVENT_FIELDS) {
  let dot = field.name.indexOf('.');
  while (dot !== -1) {
    objectPaths.add(field.name.slice(0, dot));
    dot = field.name.indexOf('.', dot + 1);
  }
}

const ISO_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;
/** `date_nanos` covers 1970 to 2262; both stores refuse what Elasticsearch would. */
const MIN_YEAR = 1970;
const MAX_YEAR = 2261;

/**
 * Parses an ISO 8601 time (up to nanoseconds, any offset; no offset = UTC, as in Elasticsearch) or epoch
 * milliseconds into fixed-width UTC text `YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ`, or null when it is not one.
 */
export function toSortTime(value: unknown): string | null {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return null;
    const ms = Math.floor(value);
    const subMs = Math.round((value - ms) * 1e6);
    return fromEpoch(ms, subMs);
  }
  if (typeof value !== 'string') return null;
  if (value.length > 0 && value.length <= 16 && /^-?\d+$/.test(value)) return fromEpoch(Number(value), 0);
  const match = ISO_TIME.exec(value);
  if (!match) return null;
  const [, y, mo, d, h = '00', mi = '00', s = '00', fraction = '', zone] = match;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  if (month < 1 || month > 12 || day < 1 || day > 31 || Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) {
    return null;
  }
  let ms = Date.UTC(year, month - 1, day, Number(h), Number(mi), Number(s));
  // Date.UTC rolls 31 February over into March; ES refuses it.
  if (new Date(ms).getUTCDate() !== day) return null;
  if (zone && zone !== 'Z' && zone !== 'z') {
    const sign = zone[0] === '-' ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const offsetMinutes = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || '0');
    ms -= sign * offsetMinutes * 60_000;
  }
  const nanos = fraction.padEnd(9, '0');
  return fromEpoch(ms + Number(nanos.slice(0, 3)), Number(nanos.slice(3)));
}

function fromEpoch(ms: number, subMsNanos: number): string | null {
  const date = new Date(ms);
  const year = date.getUTCFullYear();
  if (Number.isNaN(year) || year < MIN_YEAR || year > MAX_YEAR) return null;
  const iso = date.toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
  return `${iso.slice(0, 23)}${String(subMsNanos).padStart(6, '0')}Z`;
}

/** Readable form of a sort time for the stored document: milliseconds unless the source gave more. */
function displayTime(sortTime: string): string {
  return sortTime.endsWith('000000Z') ? `${sortTime.slice(0, 23)}Z` : sortTime;
}

export function prepareEvent(event: SecurityEvent): Prepared {
  if (event === null || typeof event !== 'object' || Array.isArray(event)) {
    return { ok: false, reason: 'event is not an object' };
  }
  const id = (event.event as { id?: unknown } | undefined)?.id;
  if (typeof id !== 'string' || id.length === 0 || id.length > 512) {
    return { ok: false, reason: 'event.id must be a non-empty string of at most 512 characters' };
  }
  const sortTime = toSortTime(event['@timestamp']);
  if (sortTime === null) {
    return {
      ok: false,
      reason: `@timestamp ${JSON.stringify(event['@timestamp'])} is not an ISO 8601 time between ${MIN_YEAR} and ${MAX_YEAR}`,
    };
  }
  const agency = (event.agency as { id?: unknown } | undefined)?.id;
  if (typeof agency !== 'string' || agency.length === 0) {
    return { ok: false, reason: 'agency.id must be a non-empty string' };
  }
  const problems: string[] = [];
  const document = normaliseObject(
    event as unknown as Record<string, unknown>,
    '',
    problems,
  ) as SecurityEvent;
  if (problems.length > 0) return { ok: false, reason: problems.join('; ') };
  document['@timestamp'] = displayTime(sortTime);
  return { ok: true, event: { document, id, sortTime } };
}

/**
 * Copies an object with dotted keys expanded (`{"source.ip": x}` → `{source: {ip: x}}`) and catalogue
 * values coerced; records a problem for each value Elasticsearch's mapping would refuse.
 */
function normaliseObject(
  input: Record<string, unknown>,
  prefix: string,
  problems: string[],
): Record<string, unknown> {
  const output: Record<string, unknown> = {};
  for (const key of Object.keys(input)) {
    const value = input[key];
    if (value === undefined) continue;
    if (key.length === 0 || key.startsWith('.') || key.endsWith('.') || key.includes('..')) {
      problems.push(`field name ${JSON.stringify(prefix + key)} is empty or has an empty segment`);
      continue;
    }
    let target = output;
    let leafKey = key;
    const path = prefix + key;
    if (key.indexOf('.') !== -1) {
      const parts = key.split('.');
      leafKey = parts.pop()!;
      let objectPath = prefix;
      let conflict = false;
      for (const part of parts) {
        objectPath += part;
        const existing = target[part];
        if (existing === undefined) {
          const created: Record<string, unknown> = {};
          target[part] = created;
          target = created;
        } else if (existing !== null && typeof existing === 'object' && !Array.isArray(existing)) {
          target = existing as Record<string, unknown>;
        } else {
          problems.push(`${objectPath} holds a value and an object`);
          conflict = true;
          break;
        }
        objectPath += '.';
      }
      if (conflict) continue;
    }
    const normalised = normaliseValue(value, path, problems);
    if (normalised === undefined) continue;
    const existing = target[leafKey];
    if (existing !== undefined && isPlainObject(existing) && isPlainObject(normalised)) {
      Object.assign(existing, normalised);
    } else {
      target[leafKey] = normalised;
    }
  }
  return output;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function normaliseValue(value: unknown, path: string, problems: string[]): unknown {
  const spec = fieldSpec(path);
  if (spec !== undefined) return coerceField(value, spec, problems);
  if (isPlainObject(value)) return normaliseObject(value, `${path}.`, problems);
  if (objectPaths.has(path) && value !== null) {
    problems.push(`${path} must be an object, got ${typeof value}`);
    return undefined;
  }
  if (Array.isArray(value)) {
    return value.map((item) => (isPlainObject(item) ? normaliseObject(item, `${path}.`, problems) : item));
  }
  return value;
}

function coerceField(value: unknown, spec: FieldSpec, problems: string[]): unknown {
  if (value === null) return null;
  if (Array.isArray(value)) {
    if (spec.column !== undefined) {
      if (value.length === 1) return coerceField(value[0], spec, problems);
      problems.push(`${spec.name} is single-valued but holds ${value.length} values`);
      return undefined;
    }
    return value.map((item) => coerceScalar(item, spec, problems));
  }
  return coerceScalar(value, spec, problems);
}

function coerceScalar(value: unknown, spec: FieldSpec, problems: string[]): unknown {
  if (value === null) return null;
  if (typeof value === 'object') {
    problems.push(`${spec.name} must be a ${spec.type} value, got an object`);
    return undefined;
  }
  switch (spec.type) {
    case 'keyword':
    case 'text':
      // ES indexes numbers and booleans in keyword fields as their text; storing the text keeps both stores equal.
      return typeof value === 'string' ? value : String(value);
    case 'ip': {
      const text = String(value);
      if (isIP(text) === 0) {
        problems.push(`${spec.name} ${JSON.stringify(text.slice(0, 64))} is not an IP address`);
        return undefined;
      }
      return text;
    }
    case 'long': {
      const number =
        typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : Number.NaN;
      if (
        typeof value === 'boolean' ||
        !Number.isFinite(number) ||
        Math.abs(number) > Number.MAX_SAFE_INTEGER
      ) {
        problems.push(`${spec.name} ${JSON.stringify(value)} is not an integer`);
        return undefined;
      }
      return Math.trunc(number);
    }
    case 'double': {
      const number =
        typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : Number.NaN;
      if (typeof value === 'boolean' || !Number.isFinite(number)) {
        problems.push(`${spec.name} ${JSON.stringify(value)} is not a number`);
        return undefined;
      }
      return number;
    }
    case 'boolean':
      if (value === true || value === 'true') return true;
      if (value === false || value === 'false') return false;
      problems.push(`${spec.name} ${JSON.stringify(value)} is not a boolean`);
      return undefined;
    case 'date':
    case 'date_nanos': {
      const time = toSortTime(value);
      if (time === null) {
        problems.push(`${spec.name} ${JSON.stringify(value)} is not an ISO 8601 time`);
        return undefined;
      }
      return spec.type === 'date' ? `${time.slice(0, 23)}Z` : displayTime(time);
    }
  }
}

/** Keyword values above ES `ignore_above` are kept but not indexed: neither store may match them. */
export function isIndexedKeyword(value: string): boolean {
  return value.length <= KEYWORD_IGNORE_ABOVE;
}

/** `YYYY-MM-DD` (UTC) of the retention cutoff: days before it are deleted whole, in both stores. */
export function retentionCutoffDay(cutoff: string | number): string {
  const time = toSortTime(cutoff);
  if (time === null) throw new Error(`retention cutoff ${JSON.stringify(cutoff)} is not a time`);
  return time.slice(0, 10);
}
