import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decimalOf, detectionIdOf, digest, eventIdOf } from './identity.js';

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

  it('gives a detection id equal to digest("detection", rule id, event id)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), fc.string({ unit: 'grapheme' }), (ruleId, eventId) => {
        expect(detectionIdOf(ruleId, eventId)).toBe(reference('detection', ruleId, eventId));
      }),
    );
  });

  it('gives an event id from the record and its receive context: the receive second, then the digest', () => {
    const record = {
      text: 'line',
      receivedAt: 1_718_456_400_123,
      transport: 'udp' as const,
      peer: '10.0.0.1:514',
      listener: 'l',
      seq: 7,
    };
    const second = (1_718_456_400).toString(16);
    expect(eventIdOf(record)).toBe(
      `${second}${reference('l', '10.0.0.1:514', '1718456400123', '7', 'line').slice(0, 14)}`,
    );
    expect(eventIdOf(record)).toMatch(/^[0-9a-f]{8}[A-Za-z0-9_-]{14}$/);
    expect(eventIdOf({ ...record })).toBe(eventIdOf(record));
    expect(eventIdOf({ ...record, seq: 8 })).not.toBe(eventIdOf(record));
    expect(eventIdOf({ ...record, receivedAt: record.receivedAt + 1 })).not.toBe(eventIdOf(record));
    // The digest is written out without digest(): still the same bytes for any text and receive context.
    const other = { ...record, text: 'Đăng nhập\u0000 x'.repeat(50), seq: 2 ** 40 };
    expect(eventIdOf(other).slice(8)).toBe(
      reference('l', '10.0.0.1:514', '1718456400123', String(2 ** 40), other.text).slice(0, 14),
    );
    // Receive times outside 1970–2106 are clamped, not broken.
    expect(eventIdOf({ ...record, receivedAt: 1 }).slice(0, 8)).toBe('00000000');
    expect(eventIdOf({ ...record, receivedAt: -5000 }).slice(0, 8)).toBe('00000000');
    expect(eventIdOf({ ...record, receivedAt: Number.NaN }).slice(0, 8)).toBe('00000000');
    expect(eventIdOf({ ...record, receivedAt: 2 ** 45 }).slice(0, 8)).toBe('ffffffff');
  });

  it("sorts ids by receive second (so they land together in the stores' unique indexes)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffffffff * 1000 }),
        fc.integer({ min: 0, max: 0xffffffff * 1000 }),
        fc.string(),
        (a, b, text) => {
          const record = { text, transport: 'tcp' as const, peer: 'p', listener: 'l', seq: 1 };
          const ida = eventIdOf({ ...record, receivedAt: a });
          const idb = eventIdOf({ ...record, receivedAt: b });
          const [sa, sb] = [Math.floor(a / 1000), Math.floor(b / 1000)];
          if (sa < sb) expect(ida < idb).toBe(true);
          if (sa > sb) expect(ida > idb).toBe(true);
        },
      ),
    );
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
