import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decimalOf, digest, eventIdOf } from './identity.js';

/** The original streaming definition: ids stored before the one-shot rewrite must stay the same. */
function reference(...parts: string[]): string {
  const hash = createHash('sha256');
  for (const part of parts) {
    hash.update(part);
    hash.update('\u0000');
  }
  return hash.digest('base64url').slice(0, 22);
}

describe('digest', () => {
  it('equals the streaming SHA-256 definition, Unicode and empty parts included', () => {
    for (const parts of [
      [],
      [''],
      ['a', 'b'],
      ['ab', ''],
      ['Sở Thông tin', 'x\u0000y', '🔥'],
      ['x'.repeat(70_000)],
    ]) {
      expect(digest(...parts)).toBe(reference(...parts));
    }
  });

  it('gives an event id from the record and its receive context', () => {
    const record = {
      text: 'line',
      receivedAt: 1,
      transport: 'udp' as const,
      peer: '10.0.0.1:514',
      listener: 'l',
      seq: 7,
    };
    expect(eventIdOf(record)).toBe(reference('l', '10.0.0.1:514', '1', '7', 'line'));
    expect(eventIdOf({ ...record, seq: 8 })).not.toBe(eventIdOf(record));
    // The id is written out without digest(): still the same bytes for any text and receive context.
    const other = {
      ...record,
      text: 'Đăng nhập\u0000 x'.repeat(50),
      receivedAt: 1718456400123,
      seq: 2 ** 40,
    };
    expect(eventIdOf(other)).toBe(
      reference('l', '10.0.0.1:514', '1718456400123', String(2 ** 40), other.text),
    );
    expect(eventIdOf(other)).toBe(digest('l', '10.0.0.1:514', '1718456400123', String(2 ** 40), other.text));
  });
});

describe('decimalOf', () => {
  it('writes what String writes', () => {
    for (const ms of [
      0,
      -1,
      999_999,
      1_000_000,
      1_000_001,
      1_718_456_400_000,
      1_718_456_999_999,
      1_718_457_000_000,
      2 ** 53 - 1,
      2 ** 53,
      1e21,
      0.5,
      -1_718_456_400_000,
      1_718_456_400_000.5,
      Number.NaN,
      Number.POSITIVE_INFINITY,
    ]) {
      expect(decimalOf(ms)).toBe(String(ms));
    }
    fc.assert(
      fc.property(fc.oneof(fc.integer({ min: 0, max: 4e12 }), fc.maxSafeNat(), fc.double()), (ms) => {
        expect(decimalOf(ms)).toBe(String(ms));
      }),
      { numRuns: 2000 },
    );
  });
});
