import { describe, expect, it } from 'vitest';
import { packState, unpackState } from './packed-state.js';
import { encodeState } from './state-store.js';
import { hit, stateOf, T } from './window-fixtures.test-support.js';

describe('the memory store packed form', () => {
  it('reads back exactly what it packed', () => {
    const plain = Array.from({ length: 30 }, (_, i) => hit(i));
    const valued = Array.from({ length: 30 }, (_, i) => hit(i, { value: String([22, 443, 8080][i % 3]) }));
    const mixed = [hit(0), hit(1, { value: '' }), hit(2, { value: 'x"\\\n\u0000é' }), hit(3)];
    const firing = {
      time: T + 40_000,
      value: 3,
      completedBy: `0:${hit(2).key}`,
      hits: [hit(0), hit(1), hit(2)],
      consumed: [hit(0), hit(1), hit(2)].map((h) => `${h.rule}:${h.key}`),
    };
    const chained = [hit(0), hit(1, { refs: ['e1', 'e2'], first: T - 5_000 })];
    const fractional = [hit(0), hit(1, { time: T + 0.5 })];
    for (const state of [
      stateOf(plain),
      stateOf(valued),
      stateOf(mixed),
      stateOf([hit(5), hit(6)], [firing]),
      stateOf([], [firing]),
      stateOf(chained),
      stateOf(fractional),
      { newest: T + 10 * 60_000, hits: [hit(0)], firings: [] },
      // Keys not in the event id's form are held as text: a shipper's id, upper-case hex, a character
      // outside base64url, wider characters and a lone surrogate.
      stateOf([
        hit(0, { key: 'shipper-1' }),
        hit(1, { key: '0A1B2C3DAbCdEfGh-_0001' }),
        hit(2, { key: '0a1b2c3dAbCdEfGh+/0001' }),
        hit(3, { key: 'ü€\ud800', agency: 'cơ-quan', value: '😀\udc00' }),
        hit(4),
      ]),
      // A firing whose JSON holds wide characters after the binary part.
      stateOf([hit(5, { agency: 'cơ-quan' })], [{ ...firing, hits: [hit(0, { value: 'ü€' })] }]),
      // More than 254 distinct values (wide indexes); the fallbacks: over 256 agencies, a time more than
      // 2^32 ms behind the newest, a rule index over 127.
      stateOf(Array.from({ length: 300 }, (_, i) => hit(i, { value: `v${i}` }))),
      stateOf(Array.from({ length: 300 }, (_, i) => hit(i, { agency: `agency-${i}` }))),
      stateOf([hit(0, { time: T - 50 * 86_400_000 }), hit(1)]),
      stateOf([hit(0, { rule: 200 }), hit(1)]),
    ]) {
      const read = unpackState(packState(state));
      expect(read).toEqual(state);
      // The hits keep correlate.ts's shapes: no property present as undefined.
      for (const [i, h] of read.hits.entries()) expect(Object.keys(h)).toEqual(Object.keys(state.hits[i]!));
    }
  });

  it('reads back every event id exactly', () => {
    const digits = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    let x = 12345;
    const next = () => {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      return x >>> 8;
    };
    const hits = Array.from({ length: 2000 }, (_, i) => {
      let key = (next() >>> 0).toString(16).padStart(8, '0').slice(-8);
      for (let c = 0; c < 14; c++) key += digits[next() & 63];
      return hit(i, { key });
    });
    hits.push(
      hit(2000, { key: `ffffffff${'_'.repeat(14)}` }),
      hit(2001, { key: `00000000${'A'.repeat(14)}` }),
    );
    const state = stateOf(hits);
    expect(unpackState(packState(state))).toEqual(state);
  });

  it('holds a retained hit of the firewall mix in 22 bytes, under 40% of the Redis record', () => {
    const hits = Array.from({ length: 30 }, (_, i) => hit(i, { value: String([22, 443, 3389][i % 3]) }));
    const packed = packState(stateOf(hits));
    // Beyond the first three hits (which hold every agency and value of the tables): 22 bytes each.
    expect((packed.length - packState(stateOf(hits.slice(0, 3))).length) / 27).toBe(22);
    expect(packed.length).toBeLessThan(encodeState(stateOf(hits)).length * 0.4);
  });

  it('falls back to the Redis record for a chained hit, and says so with its first character', () => {
    const state = stateOf([hit(0), hit(1, { refs: ['e1'], first: T })]);
    expect(packState(state)).toBe(`J${encodeState(state)}`);
    expect(packState(stateOf([hit(0)]))[0]).toBe('B');
  });
});
