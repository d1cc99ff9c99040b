/**
 * Where correlation windows live: one record per (correlation rule, group key), written by compare-and-set.
 * Every worker reads a group, applies its batch's hits with the shared state machine (group-window.ts) and
 * writes back only if nobody else wrote in between; otherwise it re-reads and re-applies. Any number of
 * workers thus reach the state one worker would, and the two modes share one implementation of the rules.
 */
import type { Firing, GroupState, WindowHit } from './group-window.js';

export interface StoredGroup {
  /** Changed by every write, never back to a value it had (both stores take it from a counter); 0 means absent. */
  version: number;
  state: GroupState;
}

export interface GroupWrite {
  key: string;
  /** The version read (0 when the group was absent). */
  expected: number;
  /** null deletes the group (nothing left in its window). */
  state: GroupState | null;
  /** Wall-clock expiry: timespan + allowed lateness, renewed by every write. */
  ttlMs: number;
  /**
   * The group as read, from which `state` was computed: a store may write the change from it (Redis sends
   * the new hits to append and where the live ones now start, not the whole window). That finds the hits
   * kept by identity, so it relies on the state machine never modifying a hit or firing it was given
   * (group-window.ts is pure; correlate.test.ts freezes what the Redis store reads, so a mutation throws).
   */
  previous?: StoredGroup | null;
}

export interface CorrelationStateStore {
  /** The record's key for a correlation's group (`groupKey`: the JSON array of its group-by values). */
  keyOf(correlationId: string, groupKey: string): string;
  read(keys: string[]): Promise<(StoredGroup | null)[]>;
  /** Compare-and-set, one result per write: false where another worker wrote first. */
  write(writes: GroupWrite[]): Promise<boolean[]>;
  /** Groups held and their bytes (for metrics and the memory benchmark). */
  usage(): Promise<{ groups: number; bytes: number }>;
  close(): Promise<void>;
}

/*
 * Compact JSON: a hit is [time − base, rule, key, agency, value?, refs?, first?], a firing is
 * [time, value, completedBy, hits, consumed]. The memory store's packed form falls back to it (base 0) for
 * groups it cannot pack; Redis holds its own record (redis-record.ts), laid out to be written as changes,
 * whose hits and firings are these with the record's base.
 */
/** `first` (a chained hit's first event) is absolute whatever the base. */
export type EncodedHit = [number, number, string, string, (string | null)?, string[]?, number?];
export type EncodedFiring = [number, number, string, EncodedHit[], string[]];
type EncodedState = [number, EncodedHit[], EncodedFiring[]];

export function encodeHit(hit: WindowHit, base = 0): EncodedHit {
  const encoded: EncodedHit = [hit.time - base, hit.rule, hit.key, hit.agency];
  if (hit.value !== undefined || hit.refs) encoded.push(hit.value ?? null);
  if (hit.refs) {
    encoded.push(hit.refs);
    if (hit.first !== undefined) encoded.push(hit.first);
  }
  return encoded;
}

export function decodeHit(encoded: EncodedHit, base = 0): WindowHit {
  const [time, rule, key, agency, value, refs, first] = encoded;
  // The literals of correlate.ts's hits: one shape each, with or without a value.
  const hit: WindowHit =
    value === undefined || value === null
      ? { time: base + time, rule, key, agency }
      : { time: base + time, rule, key, agency, value };
  if (refs) hit.refs = refs;
  if (first !== undefined) hit.first = first;
  return hit;
}

export const encodeFiring = (f: Firing): EncodedFiring => [
  f.time,
  f.value,
  f.completedBy,
  f.hits.map((hit) => encodeHit(hit)),
  f.consumed,
];

export const decodeFiring = ([time, value, completedBy, hits, consumed]: EncodedFiring): Firing => ({
  time,
  value,
  completedBy,
  hits: hits.map((hit) => decodeHit(hit)),
  consumed,
});

export function encodeState(state: GroupState): string {
  const encoded: EncodedState = [
    state.newest,
    state.hits.map((hit) => encodeHit(hit)),
    state.firings.map(encodeFiring),
  ];
  return JSON.stringify(encoded);
}

export function decodeState(text: string): GroupState {
  const [newest, hits, firings] = JSON.parse(text) as EncodedState;
  return { newest, hits: hits.map((hit) => decodeHit(hit)), firings: firings.map(decodeFiring) };
}

/**
 * A string built by concatenation (V8's JSON.stringify output, an event id holding a slice of its digest:
 * core/identity.ts) is a rope of its pieces; reading it as a number flattens it in place, and the collector
 * then drops the pieces.
 */
export function flatten(text: string): string {
  Number(text);
  return text;
}
