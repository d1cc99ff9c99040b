/**
 * A batch's rows as the calling thread makes them (toEventRows): an event JSON cannot write is dead-lettered
 * with the reason, and the rest of its batch is written.
 */
import { describe, expect, it } from 'vitest';
import type { SecurityEvent } from '../../core/model.js';
import { makeEvent } from '../contract.test-suite.js';
import { toEventRows } from './event-rows.js';

describe('the rows of a batch', () => {
  it('dead-letters what JSON cannot write and keeps the rest', () => {
    const cyclic = makeEvent('cyclic', '2025-03-01T10:00:00Z', 'ag') as SecurityEvent & { self?: unknown };
    cyclic.self = cyclic;
    const big = makeEvent('big', '2025-03-01T10:00:00Z', 'ag', { vendor: { count: 10n } });
    const fine = makeEvent('fine', '2025-03-01T10:00:00Z', 'ag');
    const batch = toEventRows([cyclic, fine, big]);
    expect(batch.docs).toHaveLength(1);
    expect(batch.values[0]).toBe('fine');
    expect(batch.deadLetters.map((row) => [row[1], row[3]])).toEqual([
      ['cyclic', expect.stringMatching(/^event is not JSON data: /)],
      ['big', expect.stringMatching(/^event is not JSON data: .*BigInt/)],
    ]);
  });
});
