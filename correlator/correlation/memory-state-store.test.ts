import { describe, expect, it } from 'vitest';
import type { GroupState, WindowHit } from './group-window.js';
import { MemoryStateStore, PACK_AFTER_MS, packState, unpackState } from './memory-state-store.js';
import { encodeState } from './state-store.js';

const T = Date.UTC(2026, 10, 26, 2, 0, 0);
/** A hit as correlate.ts makes them: the event id's shape (8 hex digits of the second, then 14 characters). */
const hit = (i: number, extra: Partial<WindowHit> = {}): WindowHit => ({
  time: T + i * 20_000,
  rule: i % 2,
  key: `${Math.floor((T + i * 20_000) / 1000).toString(16)}AbCdEfGh-_${String(i).padStart(4, '0')}`,
  agency: `agency-${1 + (i % 3)}`,
  ...extra,
});
const stateOf = (hits: WindowHit[], firings: GroupState['firings'] = []): GroupState => ({
  newest: Math.max(...hits.map((h) => h.time), ...firings.map((f) => f.time)),
  hits,
  firings,
});

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
    ]) {
      const read = unpackState(packState(state));
      expect(read).toEqual(state);
      // The hits keep correlate.ts's shapes: no property present as undefined.
      for (const [i, h] of read.hits.entries()) expect(Object.keys(h)).toEqual(Object.keys(state.hits[i]!));
    }
  });

  it('holds a retained hit of the firewall mix in under 45 bytes, under three quarters of the Redis record', () => {
    const hits = Array.from({ length: 30 }, (_, i) => hit(i, { value: String([22, 443, 3389][i % 3]) }));
    const packed = packState(stateOf(hits));
    expect(packed.length / hits.length).toBeLessThan(45);
    expect(packed.length).toBeLessThan(encodeState(stateOf(hits)).length * 0.75);
  });

  it('packs a group left unwritten for PACK_AFTER_MS, and reads it back', async () => {
    let now = T;
    const store = new MemoryStateStore(() => now);
    const state = stateOf([hit(0), hit(1, { value: '443' })]);
    const key = store.keyOf('c', '["10.0.0.1"]');
    expect(await store.write([{ key, expected: 0, state, ttlMs: 600_000 }])).toEqual([true]);
    now += PACK_AFTER_MS - 1;
    await store.write([{ key: 'other', expected: 0, state, ttlMs: 600_000 }]);
    expect((await store.read([key]))[0]!.state).toBe(state);
    now += 1;
    // The sweep runs with a write; the group is now kept packed and decoded on read.
    await store.write([{ key: 'other', expected: 1, state, ttlMs: 600_000 }]);
    const [read] = await store.read([key]);
    expect(read!.state).not.toBe(state);
    expect(read).toMatchObject({ version: 1, state });
    expect((await store.usage()).bytes).toBe(2 * packState(state).length);
  });

  it('packs a group rewritten meanwhile only PACK_AFTER_MS after its last write', async () => {
    let now = T;
    const store = new MemoryStateStore(() => now);
    const state = stateOf([hit(0)]);
    const next = stateOf([hit(0), hit(1)]);
    await store.write([{ key: 'g', expected: 0, state, ttlMs: 600_000 }]);
    now += PACK_AFTER_MS / 2;
    await store.write([{ key: 'g', expected: 1, state: next, ttlMs: 600_000 }]);
    now += PACK_AFTER_MS / 2;
    await store.write([{ key: 'other', expected: 0, state, ttlMs: 600_000 }]);
    expect((await store.read(['g']))[0]!.state).toBe(next);
    now += PACK_AFTER_MS / 2;
    await store.write([{ key: 'other', expected: 1, state, ttlMs: 600_000 }]);
    const [read] = await store.read(['g']);
    expect(read!.state).not.toBe(next);
    expect(read).toMatchObject({ version: 2, state: next });
  });
});
