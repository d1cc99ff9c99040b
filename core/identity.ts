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
 * The event id is a digest of the raw record and its receive context, so a re-delivered batch yields the
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

export function eventIdOf(record: RawRecord): string {
  // digest(listener, peer, receivedAt, seq, text) written out: one template instead of an argument array,
  // `String()` calls and a join (they cost about as much as hashing the line). Same bytes, same id.
  return hash(
    'sha256',
    `${record.listener}\u0000${record.peer}\u0000${decimalOf(record.receivedAt)}\u0000${record.seq}\u0000${record.text}\u0000`,
    'base64url',
  ).slice(0, 22);
}

export function newBatchId(): string {
  return randomUUID();
}
