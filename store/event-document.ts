/**
 * The shape check both stores run before writing an event. Elasticsearch rejects a document whose values
 * do not fit the mapping; SQLite would accept anything. Checking (and coercing) here, once, against the
 * field catalogue makes both stores accept and reject the same documents, and store the same values:
 * a rejected event goes to the dead-letter store with the reason, never silently away.
 */
import { isIP } from 'node:net';
import type { SecurityEvent } from '../core/model.js';
import { EVENT_FIELDS, type FieldSpec, fieldSpec, HOT_FIELDS, KEYWORD_IGNORE_ABOVE } from './fields.js';

export interface PreparedEvent {
  /**
   * The document to store, as JSON: dotted keys expanded, catalogue values coerced (both stores write
   * this text, so they store the same document).
   */
  json: string;
  id: string;
  /** `@timestamp` in fixed-width UTC with nanoseconds: sorts and compares as text. */
  sortTime: string;
  /**
   * The stored values of CAPTURED_FIELDS, by position (undefined where the document has none): the hot
   * columns and `message` without a second walk over the document.
   */
  captured: unknown[];
}

export type Prepared = { ok: true; event: PreparedEvent } | { ok: false; reason: string };

/**
 * The catalogue as a tree of path segments, so the shape check walks a document without building a path
 * string per key (paths are spelled out only for error messages). A node with children is an object in
 * ES's mapping (`source`, `log.syslog`, ...): a scalar there is a mapping conflict.
 */
interface CatalogueNode {
  spec: FieldSpec | undefined;
  children: Map<string, CatalogueNode> | undefined;
  /** Position in CAPTURED_FIELDS. */
  slot: number | undefined;
  /**
   * The node's path and a dot: the messages' prefix inside an object here, made once rather than
   * concatenated for every object of every event (1.4 KB of garbage an event).
   */
  prefix: string;
}

/** The fields whose stored values prepareEvent hands back beside the JSON: the hot columns, then `message`. */
export const CAPTURED_FIELDS: readonly FieldSpec[] = [...HOT_FIELDS, fieldSpec('message')!];

const catalogueRoot: CatalogueNode = { spec: undefined, children: new Map(), slot: undefined, prefix: '' };

for (const field of EVENT_FIELDS) {
  let node = catalogueRoot;
  for (const part of field.name.split('.')) {
    node.children ??= new Map();
    let child = node.children.get(part);
    if (child === undefined) {
      child = { spec: undefined, children: undefined, slot: undefined, prefix: `${node.prefix}${part}.` };
      node.children.set(part, child);
    }
    node = child;
  }
  node.spec = field;
  const slot = CAPTURED_FIELDS.indexOf(field);
  if (slot !== -1) node.slot = slot;
}

const ownKey = Object.prototype.hasOwnProperty;

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
  const canonical = canonicalUtc(value);
  if (canonical !== null) return canonical;
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

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Two ASCII digits at `at` as a number, or -1. */
function twoDigits(text: string, at: number): number {
  const high = text.charCodeAt(at) - 48;
  const low = text.charCodeAt(at + 1) - 48;
  return high >= 0 && high <= 9 && low >= 0 && low <= 9 ? high * 10 + low : -1;
}

/**
 * The fast path for what the pipeline writes (`YYYY-MM-DDTHH:MM:SS.mmmZ`, or nanoseconds): checked field
 * by field without a regex or a Date, since every event carries two or three such times. Anything else
 * (offsets, fewer digits, epoch numbers) returns null and takes the general path.
 */
function canonicalUtc(value: string): string | null {
  const length = canonicalUtcLength(value);
  if (length === 0) return null;
  return length === 30 ? value : `${value.slice(0, 23)}000000Z`;
}

/** 24 or 30 when `value` is a valid UTC time as canonicalUtc reads it (milliseconds or nanoseconds), else 0. */
function canonicalUtcLength(value: string): number {
  const length = value.length;
  if ((length !== 24 && length !== 30) || value.charCodeAt(length - 1) !== 90 /* Z */) return 0;
  if (value[4] !== '-' || value[7] !== '-' || value[10] !== 'T' || value[13] !== ':' || value[16] !== ':') {
    return 0;
  }
  if (value[19] !== '.') return 0;
  for (let i = 20; i < length - 1; i++) {
    const digit = value.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return 0;
  }
  const century = twoDigits(value, 0);
  const yearInCentury = twoDigits(value, 2);
  const month = twoDigits(value, 5);
  const day = twoDigits(value, 8);
  const hour = twoDigits(value, 11);
  const minute = twoDigits(value, 14);
  const second = twoDigits(value, 17);
  if (century < 0 || yearInCentury < 0 || month < 1 || month > 12 || day < 1) return 0;
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) return 0;
  const year = century * 100 + yearInCentury;
  if (year < MIN_YEAR || year > MAX_YEAR) return 0;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (day > (month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1]!)) return 0;
  return length;
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
  const walk: Walk = { problems: [], captured: new Array(CAPTURED_FIELDS.length) };
  const document = normaliseObject(
    event as unknown as Record<string, unknown>,
    catalogueRoot,
    '',
    walk,
    true,
  );
  if (walk.problems.length > 0) return { ok: false, reason: walk.problems.join('; ') };
  // Native JSON.stringify of the document (the event itself when it needed no change): writing the JSON
  // during the walk instead (one pass, by string concatenation) measured no faster, and left ropes of
  // hundreds of strings to the GC (docs/benchmarks.md).
  return { ok: true, event: { json: JSON.stringify(document), id, sortTime, captured: walk.captured } };
}

/** What the shape check's walk collects. */
interface Walk {
  problems: string[];
  /** CAPTURED_FIELDS' values as stored: a later write to the same field (dotted keys merged) wins, as in the copy. */
  captured: unknown[];
}

/**
 * Copies an object with dotted keys expanded (`{"source.ip": x}` → `{source: {ip: x}}`) and catalogue
 * values coerced; records a problem for each value Elasticsearch's mapping would refuse. `node` is the
 * catalogue node of the object (undefined outside the catalogue), `prefix` its path for messages.
 *
 * With `share`, what needs no change is not copied (see shareObject): most events need none, and the
 * copy was a third of the shape check's time and most of its garbage. Without it the copy is fresh to
 * every depth, because later dotted keys write into the objects it holds.
 */
function normaliseObject(
  input: Record<string, unknown>,
  node: CatalogueNode | undefined,
  prefix: string,
  walk: Walk,
  share: boolean,
): Record<string, unknown> {
  if (share) {
    const shared = shareObject(input, node, prefix, walk);
    if (shared !== undefined) return shared;
  }
  const problems = walk.problems;
  const output: Record<string, unknown> = {};
  for (const key in input) {
    if (!Object.hasOwn(input, key)) continue;
    const value = input[key];
    // `__proto__` is left out, alone or as a segment: assigning it would set the copy's prototype, and a
    // dotted `__proto__.x` would write into Object.prototype itself (an event could pollute the process).
    if (value === undefined || key === '__proto__') continue;
    let target = output;
    let leafKey = key;
    let leafNode: CatalogueNode | undefined;
    let leafPrefix = prefix;
    if (key.indexOf('.') === -1) {
      if (key.length === 0) {
        problems.push(`field name ${JSON.stringify(prefix + key)} is empty or has an empty segment`);
        continue;
      }
      leafNode = node?.children?.get(key);
    } else {
      if (key.startsWith('.') || key.endsWith('.') || key.includes('..')) {
        problems.push(`field name ${JSON.stringify(prefix + key)} is empty or has an empty segment`);
        continue;
      }
      const parts = key.split('.');
      if (parts.includes('__proto__')) continue;
      leafKey = parts.pop()!;
      let conflict = false;
      let walkNode = node;
      for (const part of parts) {
        leafPrefix += part;
        walkNode = walkNode?.children?.get(part);
        // Own keys only: an inherited `constructor` or `toString` is not a value of the event.
        const existing = Object.hasOwn(target, part) ? target[part] : undefined;
        // null is no value (as in Elasticsearch): a dotted key under it makes the object.
        if (existing === undefined || existing === null) {
          const created: Record<string, unknown> = {};
          target[part] = created;
          target = created;
        } else if (isPlainObject(existing)) {
          target = existing;
        } else {
          problems.push(`${leafPrefix} holds a value and an object`);
          conflict = true;
          break;
        }
        leafPrefix += '.';
      }
      if (conflict) continue;
      leafNode = walkNode?.children?.get(leafKey);
    }
    const normalised = normaliseValue(value, leafNode, leafPrefix, leafKey, walk, false);
    if (normalised === undefined) continue;
    const existing = Object.hasOwn(target, leafKey) ? target[leafKey] : undefined;
    if (existing !== undefined && isPlainObject(existing) && isPlainObject(normalised)) {
      Object.assign(existing, normalised);
    } else if (normalised === null && isPlainObject(existing)) {
      // `{"source.ip": …, "source": null}`: null adds nothing to the object the dotted key made (replacing
      // it would drop source.ip from the document after its hot column had been read).
    } else {
      target[leafKey] = normalised;
    }
  }
  return output;
}

/**
 * The object as normalised without copying what needs no change: `input` itself when storing it as it is
 * gives the same JSON as its copy would, else a shallow copy with the changed values replaced (a spread
 * keeps the input's hidden class: building the copy key by key turned objects of more than a dozen keys
 * into hash tables, slower to fill and to serialise). A value refused by the check (a problem) stays
 * undefined in the copy, which JSON leaves out as the copying walk does. Undefined when a key is not
 * stored as it stands (dotted, empty or `__proto__`, or a value the copy leaves out), or the object is
 * not plain data (a Date, a class instance: JSON reads those by their own rules): the copying walk then
 * does the object over, its problems so far forgotten (the captured values it sets again in the same
 * order). Events are JSON data, read once per key: no accessors.
 */
function shareObject(
  input: Record<string, unknown>,
  node: CatalogueNode | undefined,
  prefix: string,
  walk: Walk,
): Record<string, unknown> | undefined {
  const prototype = Object.getPrototypeOf(input);
  if (prototype !== Object.prototype && prototype !== null) return undefined;
  const problemsBefore = walk.problems.length;
  let output: Record<string, unknown> | undefined;
  for (const key in input) {
    // hasOwnProperty.call on the for-in key is folded into the loop by V8; Object.hasOwn is a lookup per key
    // (0.6 µs an event of the dataset's 54 keys).
    if (!ownKey.call(input, key)) continue;
    const value = input[key];
    const child = node?.children?.get(key);
    if (
      value === undefined ||
      typeof value === 'function' ||
      // A catalogue segment is never empty, dotted or `__proto__`: only other keys need looking at.
      (child === undefined && (key.length === 0 || key === '__proto__' || key.indexOf('.') !== -1))
    ) {
      walk.problems.length = problemsBefore;
      return undefined;
    }
    const normalised = normaliseValue(value, child, prefix, key, walk, true);
    if (normalised !== value) {
      output ??= { ...input };
      output[key] = normalised;
    }
  }
  return output ?? input;
}

/**
 * `mapped` (`original.map(...)`), or `original` when it holds the same items and is a plain array: nothing
 * writes into arrays once normalised, so sharing them is safe even inside a fresh copy.
 */
function sameArray(original: unknown[], mapped: unknown[]): unknown[] {
  if (!isPlainArray(original)) return mapped;
  for (let i = 0; i < mapped.length; i++) if (mapped[i] !== original[i]) return mapped;
  return original;
}

/** An array JSON writes by its items alone, which may thus be stored as it is. */
function isPlainArray(value: unknown[]): boolean {
  return (
    Object.getPrototypeOf(value) === Array.prototype && (value as { toJSON?: unknown }).toJSON === undefined
  );
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** One value at `prefix + key`, whose catalogue node is `node`; `share` as for normaliseObject. */
function normaliseValue(
  value: unknown,
  node: CatalogueNode | undefined,
  prefix: string,
  key: string,
  walk: Walk,
  share: boolean,
): unknown {
  const problems = walk.problems;
  if (node?.spec !== undefined) {
    const coerced = coerceField(value, node.spec, problems);
    if (node.slot !== undefined && coerced !== undefined) walk.captured[node.slot] = coerced;
    return coerced;
  }
  if (value === null || typeof value !== 'object') {
    if (node?.children !== undefined && value !== null) {
      problems.push(`${prefix}${key} must be an object, got ${typeof value}`);
      return undefined;
    }
    return value;
  }
  if (!Array.isArray(value))
    return normaliseObject(
      value as Record<string, unknown>,
      node,
      node?.prefix ?? `${prefix}${key}.`,
      walk,
      share,
    );
  if (node?.children !== undefined) {
    problems.push(`${prefix}${key} must be an object, got object`);
    return undefined;
  }
  return normaliseArray(value, prefix, key, walk);
}

/*
 * Arrays are walked in place and copied only from the first item that changes: an event's arrays nearly
 * always come through as they are, and mapping each one made a copy to throw away (and, for an array
 * outside the catalogue, its path prefix). A hole or an undefined item, or an array that is not plain,
 * takes `map` and sameArray as before (map skips holes), the problems of the walk so far forgotten. The
 * callbacks live in functions of their own: a closure in normaliseValue or coerceField made V8 allocate
 * their variables' context on every call, arrays or not (5 KB of garbage an event).
 */
function normaliseArray(value: unknown[], prefix: string, key: string, walk: Walk): unknown[] {
  return (
    copyOnChange(value, walk.problems, normaliseItem, prefix, key, walk) ??
    mapArray(value, `${prefix}${key}.`, walk)
  );
}

/**
 * `value` with `each(item, a, b, c)` applied to every item, copied from the first item that changes; undefined
 * (and the problems found meanwhile forgotten) when the array must take `map`: not plain, or a hole or an
 * undefined item. The item's work is a module function and its inputs are passed along, so that no closure
 * is made per array.
 */
function copyOnChange<A, B, C>(
  value: unknown[],
  problems: string[],
  each: (item: unknown, a: A, b: B, c: C) => unknown,
  a: A,
  b: B,
  c: C,
): unknown[] | undefined {
  if (!isPlainArray(value)) return undefined;
  const problemsBefore = problems.length;
  let copy: unknown[] | undefined;
  let i = 0;
  for (; i < value.length; i++) {
    const item = value[i];
    if (item === undefined) break;
    const changed = each(item, a, b, c);
    if (copy !== undefined) copy.push(changed);
    else if (changed !== item) {
      copy = value.slice(0, i);
      copy.push(changed);
    }
  }
  if (i === value.length) return copy ?? value;
  problems.length = problemsBefore;
  return undefined;
}

function normaliseItem(item: unknown, prefix: string, key: string, walk: Walk): unknown {
  return isPlainObject(item) ? normaliseObject(item, undefined, `${prefix}${key}.`, walk, true) : item;
}

function mapArray(value: unknown[], prefix: string, walk: Walk): unknown[] {
  return sameArray(
    value,
    value.map((item) => (isPlainObject(item) ? normaliseObject(item, undefined, prefix, walk, true) : item)),
  );
}

function coerceField(value: unknown, spec: FieldSpec, problems: string[]): unknown {
  if (value === null) return null;
  if (Array.isArray(value)) {
    if (spec.column !== undefined) {
      if (value.length === 1) return coerceField(value[0], spec, problems);
      problems.push(`${spec.name} is single-valued but holds ${value.length} values`);
      return undefined;
    }
    return coerceArray(value, spec, problems);
  }
  return coerceScalar(value, spec, problems);
}

/** As normaliseArray: copied from the first item that changes; holes and undefined items take `map`. */
function coerceArray(value: unknown[], spec: FieldSpec, problems: string[]): unknown[] {
  return (
    copyOnChange(value, problems, coerceScalar, spec, problems, undefined) ??
    mapScalars(value, spec, problems)
  );
}

function mapScalars(value: unknown[], spec: FieldSpec, problems: string[]): unknown[] {
  return sameArray(
    value,
    value.map((item) => coerceScalar(item, spec, problems)),
  );
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
      // A time in milliseconds, UTC, is stored as it is in both types (what the pipeline writes: no
      // nanosecond form to build and cut back, which made four strings for each of an event's times).
      if (typeof value === 'string' && canonicalUtcLength(value) === 24) return value;
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
