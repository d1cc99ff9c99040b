import { describe, expect, it } from 'vitest';
import { MemoryStateStore, PACK_AFTER_MS } from './memory-state-store.js';
import { packState } from './packed-state.js';
import { hit, stateOf, T } from './window-fixtures.test-support.js';

describe('the memory store', () => {
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

  it('packs a group at its write when it had been left unwritten for PACK_AFTER_MS', async () => {
    let now = T;
    const store = new MemoryStateStore(() => now);
    const first = stateOf([hit(0)]);
    const second = stateOf([hit(0), hit(1)]);
    const third = stateOf([hit(0), hit(1), hit(2)]);
    await store.write([{ key: 'g', expected: 0, state: first, ttlMs: 600_000 }]);
    now += PACK_AFTER_MS;
    expect(await store.write([{ key: 'g', expected: 1, state: second, ttlMs: 600_000 }])).toEqual([true]);
    // No other write since: packed by the write itself.
    const [read] = await store.read(['g']);
    expect(read!.state).not.toBe(second);
    expect(read).toMatchObject({ version: 2, state: second });
    // Written again at once (a burst starting): kept as objects.
    now += 1;
    await store.write([{ key: 'g', expected: 2, state: third, ttlMs: 600_000 }]);
    expect((await store.read(['g']))[0]).toMatchObject({ version: 3 });
    expect((await store.read(['g']))[0]!.state).toBe(third);
  });
});
