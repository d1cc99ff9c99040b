import { createHash, randomUUID } from 'node:crypto';
import type { RawRecord } from './model.js';

/** Short, URL-safe digest used for deterministic ids (events, detections, incidents). */
export function digest(...parts: string[]): string {
  const hash = createHash('sha256');
  for (const part of parts) {
    hash.update(part);
    hash.update('\u0000');
  }
  return hash.digest('base64url').slice(0, 22);
}

/**
 * The event id is a digest of the raw record and its receive context, so a re-delivered batch yields the
 * same ids (and the stores drop the duplicates), while two identical lines received apart stay apart.
 */
export function eventIdOf(record: RawRecord): string {
  return digest(record.listener, record.peer, String(record.receivedAt), String(record.seq), record.text);
}

export function newBatchId(): string {
  return randomUUID();
}
