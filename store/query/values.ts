/**
 * Field resolution and value checking: from `field` + the text an analyst typed to a checked leaf of the
 * query tree. Type mismatches are query errors pointing at the value's column.
 */
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { StoreQueryError } from '../errors.js';
import { toSortTime } from '../event-document.js';
import { EVENT_FIELDS, fieldSpec, KEYWORD_IGNORE_ABOVE } from '../fields.js';
import { ipToBytes } from '../ip.js';
import { textTokens } from '../text-tokens.js';
import { and, type FieldRef, type PatternPart, type QueryNode, type RangeOp } from './ast.js';

export interface FieldPolicy {
  /** Accept fields outside the catalogue (stored as keyword). Default: only `labels.*`. */
  allowUnmapped?: (name: string) => boolean;
}

const FIELD_NAME = /^[@A-Za-z0-9_][A-Za-z0-9_@-]*(?:\.[A-Za-z0-9_@-]+)*$/;
const defaultUnmapped = (name: string) => name.startsWith('labels.');

export function resolveField(name: string, column: number | undefined, policy: FieldPolicy = {}): FieldRef {
  if (name.length > 256 || !FIELD_NAME.test(name)) {
    throw new StoreQueryError(`invalid field name ${JSON.stringify(name.slice(0, 80))}`, column);
  }
  const spec = fieldSpec(name);
  if (spec !== undefined) {
    if (spec.stored) throw new StoreQueryError(`${name} is stored but not searchable`, column);
    return spec.column === undefined
      ? { name, type: spec.type }
      : { name, type: spec.type, column: spec.column };
  }
  if (name.endsWith('.text')) {
    const parent = fieldSpec(name.slice(0, -5));
    if (parent?.textSubfield) return { name, type: 'text', source: parent.name };
  }
  if ((policy.allowUnmapped ?? defaultUnmapped)(name)) return { name, type: 'unmapped' };
  const hint = closestField(name);
  throw new StoreQueryError(`unknown field ${name}${hint ? ` (did you mean ${hint}?)` : ''}`, column);
}

/** `field:value` with a quoted or plain value (no wildcards). */
export function exactLeaf(field: FieldRef, raw: string, quoted: boolean, column?: number): QueryNode {
  switch (field.type) {
    case 'keyword':
    case 'unmapped':
      return raw.length > KEYWORD_IGNORE_ABOVE ? { kind: 'none' } : { kind: 'term', field, value: raw };
    case 'text': {
      const tokens = textTokens(raw);
      return { kind: 'text', field, text: raw, tokens, prefix: false };
    }
    case 'ip':
      if (!quoted && raw.includes('/')) return cidrLeaf(field, raw, column);
      if (isIP(raw) === 0) {
        throw new StoreQueryError(
          `${field.name} is an IP field: ${JSON.stringify(raw)} is not an address or CIDR block`,
          column,
        );
      }
      return { kind: 'term', field, value: raw };
    case 'long':
    case 'double':
      return { kind: 'term', field, value: numberValue(field, raw, column) };
    case 'boolean':
      if (raw === 'true' || raw === 'false') return { kind: 'term', field, value: raw === 'true' };
      throw new StoreQueryError(`${field.name} is a boolean field: use true or false`, column);
    case 'date':
    case 'date_nanos':
      return dateLeaf(field, raw, column);
  }
}

/** Unquoted value with `*` or `?`. A lone `*` means the field exists. */
export function patternLeaf(field: FieldRef, pattern: PatternPart[], column?: number): QueryNode {
  if (pattern.length === 1 && typeof pattern[0] !== 'string' && pattern[0]!.wildcard === '*') {
    return { kind: 'exists', field };
  }
  switch (field.type) {
    case 'keyword':
    case 'unmapped':
      return { kind: 'wildcard', field, pattern };
    case 'text': {
      const last = pattern[pattern.length - 1];
      const stem = pattern.length === 2 && typeof pattern[0] === 'string' ? pattern[0] : undefined;
      if (stem === undefined || typeof last === 'string' || last?.wildcard !== '*') {
        throw new StoreQueryError(
          `in full-text field ${field.name} only a trailing * after one word is supported`,
          column,
        );
      }
      const tokens = textTokens(stem);
      if (tokens.length !== 1 || tokens[0] !== stem.toLowerCase()) {
        throw new StoreQueryError(
          `a trailing * must follow one whole word, not ${JSON.stringify(stem)}`,
          column,
        );
      }
      return { kind: 'text', field, text: stem, tokens, prefix: true };
    }
    default:
      throw new StoreQueryError(
        `wildcards work on keyword fields; ${field.name} is a ${field.type} field`,
        column,
      );
  }
}

export function rangeLeaf(field: FieldRef, op: RangeOp, raw: string, column?: number): QueryNode {
  switch (field.type) {
    case 'keyword':
    case 'unmapped':
      return { kind: 'range', field, op, value: raw };
    case 'long':
    case 'double':
      return { kind: 'range', field, op, value: numberValue(field, raw, column) };
    case 'ip':
      if (isIP(raw) === 0)
        throw new StoreQueryError(
          `${field.name} is an IP field: ${JSON.stringify(raw)} is not an address`,
          column,
        );
      return { kind: 'range', field, op, value: raw };
    case 'date':
    case 'date_nanos': {
      const time = toSortTime(raw);
      if (time === null)
        throw new StoreQueryError(
          `${field.name} is a date field: ${JSON.stringify(raw)} is not an ISO 8601 time`,
          column,
        );
      return { kind: 'range', field, op, value: time };
    }
    default:
      throw new StoreQueryError(`ranges do not apply to ${field.type} field ${field.name}`, column);
  }
}

/** An exact filter from the API's `filters` (typed JSON values rather than query text). */
export function filterLeaf(name: string, value: string | number | boolean): QueryNode {
  const field = resolveField(name, undefined, { allowUnmapped: () => true });
  if (field.type === 'text') {
    throw new StoreQueryError(`${name} is a full-text field: search its words with a query, not a filter`);
  }
  return exactLeaf(field, String(value), true);
}

function numberValue(field: FieldRef, raw: string, column?: number): number {
  const value = raw.trim() === '' ? Number.NaN : Number(raw);
  if (!Number.isFinite(value) || (field.type === 'long' && !Number.isSafeInteger(value))) {
    throw new StoreQueryError(
      `${field.name} is a numeric field: ${JSON.stringify(raw)} is not ${field.type === 'long' ? 'an integer' : 'a number'}`,
      column,
    );
  }
  return value;
}

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

/** A full time matches that instant; a bare date matches the whole UTC day. */
function dateLeaf(field: FieldRef, raw: string, column?: number): QueryNode {
  const time = toSortTime(raw);
  if (time === null)
    throw new StoreQueryError(
      `${field.name} is a date field: ${JSON.stringify(raw)} is not an ISO 8601 time`,
      column,
    );
  if (!DATE_ONLY.test(raw)) return { kind: 'term', field, value: time };
  const next = toSortTime(Date.parse(`${raw}T00:00:00Z`) + 86_400_000);
  const upper: QueryNode = next === null ? { kind: 'all' } : { kind: 'range', field, op: 'lt', value: next };
  return and([{ kind: 'range', field, op: 'gte', value: time }, upper]);
}

function cidrLeaf(field: FieldRef, raw: string, column?: number): QueryNode {
  let range: [ipaddr.IPv4 | ipaddr.IPv6, number];
  try {
    range = ipaddr.parseCIDR(raw);
  } catch {
    throw new StoreQueryError(
      `${field.name} is an IP field: ${JSON.stringify(raw)} is not a CIDR block`,
      column,
    );
  }
  const [address, bits] = range;
  const first = ipToBytes(address.toString());
  if (first === null)
    throw new StoreQueryError(`${field.name}: ${JSON.stringify(raw)} is not a CIDR block`, column);
  const prefixBits = address.kind() === 'ipv4' ? bits + 96 : bits;
  const firstBytes = Buffer.from(first);
  const lastBytes = Buffer.from(first);
  for (let bit = 0; bit < 128; bit++) {
    if (bit < prefixBits) continue;
    const byte = bit >> 3;
    const mask = 0x80 >> (bit & 7);
    firstBytes[byte] = firstBytes[byte]! & ~mask;
    lastBytes[byte] = lastBytes[byte]! | mask;
  }
  return { kind: 'cidr', field, cidr: raw, first: firstBytes, last: lastBytes };
}

function closestField(name: string): string | undefined {
  let best: string | undefined;
  let bestDistance = 4;
  for (const field of EVENT_FIELDS) {
    const distance = editDistance(name, field.name, bestDistance);
    if (distance < bestDistance) {
      bestDistance = distance;
      best = field.name;
    }
  }
  return best;
}

function editDistance(a: string, b: string, cap: number): number {
  if (Math.abs(a.length - b.length) >= cap) return cap;
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        previous[j]! + 1,
        current[j - 1]! + 1,
        previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length]!;
}
