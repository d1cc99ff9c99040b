/**
 * Scale mode's record of one correlation group in Redis, laid out so that a write can be a change to the
 * record read instead of the whole window again (the Lua script in redis-state-store.ts applies it):
 *
 *   <version>\n<base>,<newest − base>\n<firings>\n,<hit>\n,<hit>\n…
 *
 * - version: taken from the store's counter by every write, so never reused, not even after the group is
 *   deleted or expires: a version names one content forever, and a write computed from it is a safe change;
 * - base: an event time fixed when the record is written whole; hit times are stored relative to it (a few
 *   digits instead of 13) and do not change when `newest` moves, so a hit's text is written once;
 * - firings: `[]`-less JSON list of the retained firings (empty line when none), rewritten only when they
 *   change;
 * - one line per retained hit, in the window's order: `,[time − base,rule,"key","agency"(,value(,refs,first))]`.
 *   JSON text holds no raw newline (JSON.stringify escapes it in strings), so the script finds a hit's end
 *   by the next `\n`, and `[0` + the lines + `]` is one JSON array for the worker to parse.
 *
 * A write is then the new head line, the firings line or a mark that it is unchanged, how many hits to drop
 * from the front (expired, consumed by a firing) and the new hits' lines to append. A window whose hits
 * are not the read ones minus a prefix plus new ones at the end (a hit inserted out of order) drops them
 * all and appends the new list: the same rule, just longer.
 */
import type { Firing, GroupState, WindowHit } from './group-window.js';
import {
  decodeFiring,
  decodeHit,
  type EncodedFiring,
  type EncodedHit,
  encodeFiring,
  encodeHit,
  type StoredGroup,
} from './state-store.js';

/** A group as read, with what a write computed from it needs to send only the change (`changeOf`). */
export interface DecodedRecord extends StoredGroup {
  base: number;
}

const hitLine = (hit: WindowHit, base: number) => `,${JSON.stringify(encodeHit(hit, base))}\n`;

const firingsLine = (firings: Firing[]) =>
  firings.length === 0 ? '' : JSON.stringify(firings.map(encodeFiring));

const firingsOf = (text: string): Firing[] =>
  text === '' ? [] : (JSON.parse(text) as EncodedFiring[]).map(decodeFiring);

export function decodeRecord(text: string): DecodedRecord {
  const versionEnd = text.indexOf('\n');
  const headEnd = text.indexOf('\n', versionEnd + 1);
  const firingsEnd = text.indexOf('\n', headEnd + 1);
  const comma = text.indexOf(',', versionEnd);
  const base = Number(text.slice(versionEnd + 1, comma));
  const newest = base + Number(text.slice(comma + 1, headEnd));
  const firingsText = text.slice(headEnd + 1, firingsEnd);
  const hits: WindowHit[] = [];
  if (firingsEnd + 1 < text.length) {
    const encoded = JSON.parse(`[0${text.slice(firingsEnd + 1)}]`) as (EncodedHit | 0)[];
    for (let i = 1; i < encoded.length; i++) hits.push(decodeHit(encoded[i] as EncodedHit, base));
  }
  return {
    version: Number(text.slice(0, versionEnd)),
    state: { newest, hits, firings: firingsOf(firingsText) },
    base,
  };
}

/** A write as the script takes it: replace the whole body, or change the one read. */
export interface RecordChange {
  /** Hits to drop from the front of the record read; -1: the body is written whole (`firings`, `hits`). */
  drop: number;
  head: string;
  /** The firings line, or null when unchanged from the record read. */
  firings: string | null;
  /** The lines of the hits to append (all of them for a whole body). */
  hits: string;
}

const headOf = (state: GroupState, base: number) => `${base},${state.newest - base}`;

/**
 * Times are stored relative to `base` only where that gives the time back exactly (integers, as event times
 * are); otherwise the record is written whole with base 0.
 */
const exact = (time: number, base: number) => base + (time - base) === time;

export function wholeRecord(state: GroupState): RecordChange {
  const first = state.hits[0]?.time ?? state.newest;
  let base = Number.isSafeInteger(first) ? first : 0;
  if (!exact(state.newest, base) || !state.hits.every((hit) => exact(hit.time, base))) base = 0;
  let hits = '';
  for (const hit of state.hits) hits += hitLine(hit, base);
  return { drop: -1, head: headOf(state, base), firings: firingsLine(state.firings), hits };
}

/**
 * The change from the record read to `state`, which the state machine computed from it. It relies on the
 * machine never modifying a hit or a firing it was given (group-window.ts: pure; correlate.test.ts runs the
 * Redis store with its reads frozen): the hits kept are then the read ones (same objects) from some index
 * on, and their lines in the record stand for them.
 */
export function changeOf(read: DecodedRecord, state: GroupState): RecordChange {
  const { base } = read;
  const before = read.state.hits;
  const after = state.hits;
  let drop = after.length > 0 ? before.indexOf(after[0]!) : -1;
  if (drop < 0) drop = before.length;
  const kept = before.length - drop;
  for (let i = 0; i < kept; i++) if (after[i] !== before[drop + i]) return wholeRecord(state);
  let hits = '';
  for (let i = kept; i < after.length; i++) {
    const hit = after[i]!;
    if (!exact(hit.time, base)) return wholeRecord(state);
    hits += hitLine(hit, base);
  }
  if (!exact(state.newest, base)) return wholeRecord(state);
  const firingsUnchanged =
    state.firings.length === read.state.firings.length &&
    state.firings.every((firing, i) => firing === read.state.firings[i]);
  return {
    drop,
    head: headOf(state, base),
    firings: firingsUnchanged ? null : firingsLine(state.firings),
    hits,
  };
}
