import { hash, randomUUID } from 'node:crypto';
import type { RawRecord } from './model.js';

/**
 * Short, URL-safe digest used for deterministic ids (events, detections, incidents): SHA-256 of the parts,
 * each followed by NUL. One-shot `crypto.hash` (no Hash object per call: this runs once per event).
 */
export function digest(...parts: string[]): string {
  const input = parts.length === 0 ? '' : `${parts.join('\u0000')}\u0000`;
  return hash('sha256', input, 'base64url').slice(0, 22);
}

/**
 * A rule match's detection id, `digest('detection', ruleId, eventId)` written out as one template (no
 * argument array, no join): the match stage makes one for every rule hit.
 */
export function detectionIdOf(ruleId: string, eventId: string): string {
  return hash('sha256', `detection\u0000${ruleId}\u0000${eventId}\u0000`, 'base64url').slice(0, 22);
}

/**
 * The event id comes from the raw record and its receive context, so a re-delivered batch yields the
 * same ids (and the stores drop the duplicates), while two identical lines received apart stay apart.
 */
const THREE_DIGITS = Array.from({ length: 1000 }, (_, n) => String(n).padStart(3, '0'));

/**
 * `String(ms)` for a receive time: an epoch in ms is not a small integer to V8, and its general number
 * formatting costs more than the rest of the id's text. Written as the millions (a small integer, which
 * repeats for 16 minutes) and six digits from a table; anything unusual goes through `String`.
 */
export function decimalOf(ms: number): string {
  if (Number.isSafeInteger(ms) && ms >= 1_000_000) {
    const millions = Math.floor(ms / 1_000_000);
    const rest = ms - millions * 1_000_000;
    if (rest >= 0 && rest < 1_000_000) {
      const thousands = Math.floor(rest / 1000);
      return `${millions}${THREE_DIGITS[thousands]}${THREE_DIGITS[rest - thousands * 1000]}`;
    }
  }
  return String(ms);
}

/**
 * The event id: the second the record was received, as 8 hex digits, then 14 characters (84 bits) of the
 * SHA-256 digest of `digest(listener, peer, receivedAt, seq, text)` — 22 URL-safe characters.
 *
 * Why the time first: both stores keep a unique index on the id (SQLite's UNIQUE column, Elasticsearch's
 * `_id` lookup on `create`). Bare digests land at random places in it: once the index outgrew the cache,
 * every batch rewrote most of its pages — SQLite wrote 22 KB per 1.3 KB event and spent 72 µs an event at
 * 1M events, against 10 KB and 41–49 µs with time-ordered ids (docs/store-sqlite.md). Ids received in the
 * same second now sort together at the index's right edge, as Lucene prefers too. 84 bits leave forging
 * another record's id (a second preimage, with the server's receive time and sequence in the input) out
 * of reach, and a collision between two records of the same second at 2^-84 per pair.
 */
export function eventIdOf(record: RawRecord): string {
  // The digest written out: one template instead of an argument array, `String()` calls and a join
  // (they cost about as much as hashing the line). Same bytes as digest(...).
  const hashed = hash(
    'sha256',
    `${record.listener}\u0000${record.peer}\u0000${decimalOf(record.receivedAt)}\u0000${record.seq}\u0000${record.text}\u0000`,
    'base64url',
  );
  return `${secondHex(record.receivedAt)}${hashed.slice(0, 14)}`;
}

let lastSecond = -1;
let lastSecondHex = '00000000';

/** The receive second as 8 lowercase hex digits (sorts as the time does until 2106), kept per second. */
function secondHex(ms: number): string {
  const second = Math.floor(ms / 1000);
  if (second !== lastSecond) {
    lastSecond = second;
    // Outside 1970–2106 (or not a number): clamped, still a valid id.
    lastSecondHex =
      second >= 0 && second <= 0xffffffff
        ? second.toString(16).padStart(8, '0')
        : second > 0xffffffff
          ? 'ffffffff'
          : '00000000';
  }
  return lastSecondHex;
}

export function newBatchId(): string {
  return randomUUID();
}
