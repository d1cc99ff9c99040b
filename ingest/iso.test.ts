import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isoOf } from './iso.js';

describe('isoOf', () => {
  it('writes what Date#toISOString writes, for any instant', () => {
    fc.assert(
      fc.property(fc.integer({ min: -8.64e15, max: 8.64e15 }), (ms) => {
        expect(isoOf(ms)).toBe(new Date(ms).toISOString());
      }),
      { numRuns: 2000 },
    );
    for (const ms of [0, -1, 1, 86_399_999, 86_400_000, -62167219200000, 253402300799999, 253402300800000]) {
      expect(isoOf(ms)).toBe(new Date(ms).toISOString());
    }
  });

  it('stays right when calls alternate between seconds, as event and receive times do (property)', () => {
    const instant = fc.oneof(
      fc.integer({ min: 1_718_000_000_000, max: 1_718_000_005_000 }),
      fc.integer({ min: -8.64e15, max: 8.64e15 }),
      fc.double({ min: 0, max: 2e12, noNaN: true }),
    );
    fc.assert(
      fc.property(fc.array(instant, { maxLength: 30 }), (instants) => {
        for (const ms of instants) expect(isoOf(ms)).toBe(new Date(ms).toISOString());
      }),
      { numRuns: 500 },
    );
  });

  it('appends sub-millisecond digits', () => {
    expect(isoOf(0, '456')).toBe('1970-01-01T00:00:00.000456Z');
  });
});
