/**
 * Scale mode's record of one correlation group in Redis, laid out so that a write is proportional to its
 * change, not to the window (the Lua script in redis-state-store.ts applies it): a fixed-width head
 * rewritten in place (`SETRANGE`), then the hits, new ones appended (`APPEND`).
 *
 *   <version>,<live>,<newest>\n<base>\n<firings>\n,<hit>\n,<hit>\n…
 *
 * - head, `HEAD_BYTES` wide: version (16 digits), live (10 digits), newest (24 characters, padded with
 *   spaces: an event time in whole milliseconds fits with room to spare);
 * - version: taken from the store's counter by every write, so never reused, not even after the group is
 *   deleted or expires: a version names one content forever, and a write computed from it is a safe change;
 * - live: the byte offset of the first hit line still in the window. The lines before it were dropped
 *   (expired, consumed by a firing) and stay in place until the record is next written whole, which a write
 *   does once they would exceed the live and new lines together: the dropped bytes are bounded by the
 *   window's, and each line is copied again about once in its life;
 * - base: an event time fixed when the record is written whole; hit times are stored relative to it (a few
 *   digits instead of 13), so a hit's line does not change after it is written;
 * - firings: the retained firings as one JSON list (an empty line when none);
 * - one line per hit, in the window's order: `,[time − base,rule,"key","agency"(,value(,refs,first))]`.
 *   JSON text holds no raw newline (JSON.stringify escapes it in strings), so a hit's line ends at the next
 *   `\n`, and `[0` + the live lines + `]` is one JSON array for the worker to parse.
 *
 * A write computed from the record read is a change when the window is the read one's hits minus a prefix
 * plus new ones at the end, with the same firings (nearly every write): the new head (its `live` past the
 * dropped lines) and the new lines. Otherwise, or to drop the dropped lines, it is written whole: after a
 * firing (which consumes the hits up to its end, so few are left), a hit inserted before retained ones, or
 * a compaction; a whole write from the record read sends its kept lines as read, not re-encoded. The worker
 * reads the record as bytes and decodes only the live lines.
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

export const VERSION_DIGITS = 16;
export const LIVE_DIGITS = 10;
const NEWEST_WIDTH = 24;
/** The head line's bytes, its newline included. */
export const HEAD_BYTES = VERSION_DIGITS + 1 + LIVE_DIGITS + 1 + NEWEST_WIDTH + 1;
const NEWLINE = 0x0a;

/** A group as read, with what a write computed from it needs to send only the change (`changeOf`). */
export interface DecodedRecord extends StoredGroup {
  base: number;
  /** The record as read. */
  bytes: Buffer;
  /** Where the firings line starts (after the base line), and the first hit line (after the firings). */
  firingsFrom: number;
  hitsFrom: number;
  /** Where the first live hit's line starts. */
  live: number;
}

const hitLine = (hit: WindowHit, base: number) => `,${JSON.stringify(encodeHit(hit, base))}\n`;

const firingsLine = (firings: Firing[]) =>
  firings.length === 0 ? '' : JSON.stringify(firings.map(encodeFiring));

const firingsOf = (text: string): Firing[] =>
  text === '' ? [] : (JSON.parse(text) as EncodedFiring[]).map(decodeFiring);

/** The version as the head holds it ('' for an absent group: what `GETRANGE` gives for a missing key). */
export const versionField = (version: number) =>
  version === 0 ? '' : String(version).padStart(VERSION_DIGITS, '0');

export function decodeRecord(bytes: Buffer): DecodedRecord {
  const live = Number(bytes.toString('latin1', VERSION_DIGITS + 1, VERSION_DIGITS + 1 + LIVE_DIGITS));
  const baseEnd = bytes.indexOf(NEWLINE, HEAD_BYTES);
  const firingsEnd = bytes.indexOf(NEWLINE, baseEnd + 1);
  const base = Number(bytes.toString('latin1', HEAD_BYTES, baseEnd));
  const hits: WindowHit[] = [];
  if (live < bytes.length) {
    const encoded = JSON.parse(`[0${bytes.toString('utf8', live)}]`) as (EncodedHit | 0)[];
    for (let i = 1; i < encoded.length; i++) hits.push(decodeHit(encoded[i] as EncodedHit, base));
  }
  return {
    version: Number(bytes.toString('latin1', 0, VERSION_DIGITS)),
    state: {
      newest: Number(bytes.toString('latin1', HEAD_BYTES - 1 - NEWEST_WIDTH, HEAD_BYTES - 1)),
      hits,
      firings: firingsOf(bytes.toString('utf8', baseEnd + 1, firingsEnd)),
    },
    base,
    bytes,
    firingsFrom: baseEnd + 1,
    hitsFrom: firingsEnd + 1,
    live,
  };
}

/** A write as the script takes it: a change to the record read, or the record whole. */
export interface RecordChange {
  /** The byte offset of the first live hit after the change; -1: the record is written whole. */
  live: number;
  /** The head's newest field (`NEWEST_WIDTH` characters). */
  newest: string;
  /** Whole: the base and firings lines ('' for a change). */
  body: string;
  /** The hit lines to append (whole: all of them). */
  hits: string;
}

const newestField = (newest: number) => String(newest).padEnd(NEWEST_WIDTH);

/**
 * Times are stored relative to `base` only where that gives the time back exactly (integers, as event times
 * are); otherwise the record is written whole with base 0.
 */
const exact = (time: number, base: number) => base + (time - base) === time;

export function wholeRecord(state: GroupState): RecordChange {
  const first = state.hits[0]?.time ?? state.newest;
  let base = Number.isSafeInteger(first) ? first : 0;
  if (!state.hits.every((hit) => exact(hit.time, base))) base = 0;
  let hits = '';
  for (const hit of state.hits) hits += hitLine(hit, base);
  return {
    live: -1,
    newest: newestField(state.newest),
    body: `${base}\n${firingsLine(state.firings)}\n`,
    hits,
  };
}

/**
 * The change from the record read to `state`, which the state machine computed from it. It relies on the
 * machine never modifying a hit or a firing it was given (group-window.ts: pure; correlate.test.ts runs the
 * Redis store with its reads frozen): the hits kept are then the read ones (same objects) from some index
 * on, and their lines in the record stand for them.
 */
export function changeOf(read: DecodedRecord, state: GroupState): RecordChange {
  const { base, bytes } = read;
  const before = read.state.hits;
  const after = state.hits;
  let drop = after.length > 0 ? before.indexOf(after[0]!) : -1;
  if (drop < 0) drop = before.length;
  const kept = before.length - drop;
  for (let i = 0; i < kept; i++) if (after[i] !== before[drop + i]) return wholeRecord(state);
  let lines = '';
  for (let i = kept; i < after.length; i++) {
    const hit = after[i]!;
    if (!exact(hit.time, base)) return wholeRecord(state);
    lines += hitLine(hit, base);
  }
  let live = read.live;
  for (let i = 0; i < drop; i++) live = bytes.indexOf(NEWLINE, live) + 1;
  const firingsUnchanged =
    state.firings.length === read.state.firings.length &&
    state.firings.every((firing, i) => firing === read.state.firings[i]);
  // Dropped lines beyond the live and new ones (new lines' bytes counted as characters: a threshold).
  const compact = live - read.hitsFrom > bytes.length - live + lines.length;
  if (firingsUnchanged && !compact) return { live, newest: newestField(state.newest), body: '', hits: lines };
  // The kept lines go back as text (each cut is at a '\n' byte, so decoding is exact): one Buffer argument
  // puts ioredis's whole script call, every group's arguments, through its buffer path (copied again).
  return {
    live: -1,
    newest: newestField(state.newest),
    body: firingsUnchanged
      ? bytes.toString('utf8', HEAD_BYTES, read.hitsFrom)
      : `${base}\n${firingsLine(state.firings)}\n`,
    hits: live === bytes.length ? lines : bytes.toString('utf8', live) + lines,
  };
}
