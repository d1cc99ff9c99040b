/**
 * The Redis record and its writes as changes (redis-record.ts, the script in redis-state-store.ts), against
 * the real Redis: what is read back is what was written, whether a write sent the whole window or only
 * the change from the record read; a change computed from a record another store has rewritten since is
 * refused, as is one from a deleted and re-created group (versions are never reused).
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REDIS_URL, uniquePrefix } from '../../test/support/services.js';
import type { Firing, WindowHit } from './group-window.js';
import { changeOf, type DecodedRecord, HEAD_BYTES } from './redis-record.js';
import { RedisStateStore } from './redis-state-store.js';
import type { StoredGroup } from './state-store.js';
import { hit, stateOf, T } from './window-fixtures.test-support.js';

const TTL = 600_000;
const firing = (i: number): Firing => ({
  time: T + i * 20_000,
  value: 3,
  completedBy: `0:k${i}`,
  hits: [hit(i - 2), hit(i - 1, { value: 'x"\n,]' }), hit(i)],
  consumed: [`0:k${i - 2}`, `0:k${i - 1}`, `0:k${i}`],
});
/** What the state machine does: a new state keeping the read hit objects it keeps. */
const next = (read: StoredGroup, drop: number, added: WindowHit[], firings = read.state.firings) =>
  stateOf([...read.state.hits.slice(drop), ...added], firings);

let redis: Redis;
const prefix = uniquePrefix('redis-state');
let stores = 0;
const newStore = () => new RedisStateStore({ redis, prefix: `${prefix}-${++stores}` });

beforeAll(() => {
  redis = new Redis(REDIS_URL);
});
afterAll(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
});

describe('the Redis record', () => {
  it('reads back every kind of hit and firing as written', async () => {
    const store = newStore();
    const state = stateOf(
      [
        hit(0),
        hit(1, { value: '443' }),
        hit(2, { value: 'a "quoted"\nline, with ] and \\' }),
        hit(3, { refs: ['e1', 'e2'], first: T - 5_000 }),
        hit(4, { refs: ['e3'], value: 'v', first: T }),
      ],
      [firing(3)],
    );
    expect(await store.write([{ key: 'g', expected: 0, state, ttlMs: TTL }])).toEqual([true]);
    const [read] = await store.read(['g']);
    expect(read!.state).toEqual(state);
    expect(read!.version).toBeGreaterThan(0);
    expect(await redis.pttl(`${store.keyPrefix}g`)).toBeGreaterThan(TTL - 5_000);
  });

  it('keeps times that are not integers exact (written relative to base 0)', async () => {
    const store = newStore();
    const state = stateOf([hit(0, { time: T + 0.1 }), hit(1, { time: 0.3 })]);
    await store.write([{ key: 'g', expected: 0, state, ttlMs: TTL }]);
    const [read] = await store.read(['g']);
    expect((read as DecodedRecord).base).toBe(0);
    expect(read!.state).toEqual(state);
  });
});

describe('writes as changes', () => {
  it('drops hits from the front and appends new ones, sending only those', async () => {
    const store = newStore();
    // A dropped line of multi-byte characters: the record's offsets count bytes.
    const hits = [hit(0), hit(1, { value: 'ü€😀' }), hit(2), hit(3)];
    await store.write([{ key: 'g', expected: 0, state: stateOf(hits), ttlMs: 10_000 }]);
    const [read] = await store.read(['g']);
    const state = next(read!, 2, [hit(4, { value: '22' }), hit(5)]);
    const change = changeOf(read as DecodedRecord, state);
    expect(change.live).toBeGreaterThan((read as DecodedRecord).hitsFrom);
    expect(change.body).toBe('');
    expect(String(change.hits).split('\n')).toHaveLength(3); // the two new hits' lines and the end
    const previous = (await redis.get(`${store.keyPrefix}g`))!;

    expect(
      await store.write([{ key: 'g', expected: read!.version, state, ttlMs: TTL, previous: read }]),
    ).toEqual([true]);
    const [after] = await store.read(['g']);
    expect(after!.state).toEqual(state);
    expect(after!.version).not.toBe(read!.version);
    // The head rewritten in place, the new lines appended: the rest is the record as it was (the dropped
    // lines included, until a compaction), and the TTL renewed.
    const record = (await redis.get(`${store.keyPrefix}g`))!;
    expect(record.slice(HEAD_BYTES)).toBe(previous.slice(HEAD_BYTES) + change.hits);
    expect(await redis.pttl(`${store.keyPrefix}g`)).toBeGreaterThan(TTL - 5_000);
  });

  it('writes the record whole without its dropped lines once they exceed the rest: bounded by the window', async () => {
    const store = newStore();
    await store.write([
      {
        key: 'g',
        expected: 0,
        state: stateOf(
          [0, 1, 2, 3].map((i) => hit(i)),
          [firing(3)],
        ),
        ttlMs: TTL,
      },
    ]);
    let [read] = await store.read(['g']);
    const first = read as DecodedRecord;
    const lineBytes = (first.bytes.length - first.hitsFrom) / 4;
    let compactions = 0;
    for (let i = 4; i < 40; i++) {
      const state = next(read!, 1, [hit(i)]);
      expect(
        await store.write([{ key: 'g', expected: read!.version, state, ttlMs: TTL, previous: read }]),
      ).toEqual([true]);
      const [after] = await store.read(['g']);
      expect(after!.state).toEqual(state);
      const record = after as DecodedRecord;
      if (record.bytes.length < (read as DecodedRecord).bytes.length) compactions++;
      // A window of 4 hits: dropped lines at most the 4 live and the new one, each about `lineBytes`.
      expect(record.bytes.length - record.hitsFrom).toBeLessThanOrEqual(10 * lineBytes + 10);
      read = after;
    }
    expect(compactions).toBeGreaterThanOrEqual(6);
  });

  it('writes the record whole when the firings change (kept lines as read), as a change otherwise', async () => {
    const store = newStore();
    await store.write([{ key: 'g', expected: 0, state: stateOf([hit(5)], [firing(3)]), ttlMs: TTL }]);
    let [read] = await store.read(['g']);
    let state = next(read!, 0, [hit(6)]);
    expect(changeOf(read as DecodedRecord, state)).toMatchObject({ body: '' });
    await store.write([{ key: 'g', expected: read!.version, state, ttlMs: TTL, previous: read }]);
    [read] = await store.read(['g']);
    expect(read!.state).toEqual(state);

    state = next(read!, 1, [hit(7)], [...read!.state.firings, firing(6)]);
    expect(changeOf(read as DecodedRecord, state).live).toBe(-1);
    await store.write([{ key: 'g', expected: read!.version, state, ttlMs: TTL, previous: read }]);
    [read] = await store.read(['g']);
    expect(read!.state).toEqual(state);
    expect(read!.state.firings).toHaveLength(2);
  });

  it('writes a hit that arrived out of order, before retained ones, by replacing the hits', async () => {
    const store = newStore();
    await store.write([{ key: 'g', expected: 0, state: stateOf([hit(0), hit(2), hit(3)]), ttlMs: TTL }]);
    const [read] = await store.read(['g']);
    const [h0, h2, h3] = read!.state.hits;
    const state = stateOf([h0!, hit(1), h2!, h3!, hit(4)]);
    expect(changeOf(read as DecodedRecord, state).live).toBe(-1);
    await store.write([{ key: 'g', expected: read!.version, state, ttlMs: TTL, previous: read }]);
    expect((await store.read(['g']))[0]!.state).toEqual(state);
  });

  it('deletes a group left empty', async () => {
    const store = newStore();
    await store.write([{ key: 'g', expected: 0, state: stateOf([hit(0)]), ttlMs: TTL }]);
    const [read] = await store.read(['g']);
    expect(
      await store.write([{ key: 'g', expected: read!.version, state: null, ttlMs: TTL, previous: read }]),
    ).toEqual([true]);
    expect(await store.read(['g'])).toEqual([null]);
    expect(await store.usage()).toEqual({ groups: 0, bytes: 0 });
  });
});

describe('concurrent writers on one group', () => {
  it('refuses the change of a record another store rewrote since it was read; the re-read one applies', async () => {
    const first = newStore();
    const second = new RedisStateStore({ redis, prefix: `${prefix}-${stores}` });
    await first.write([{ key: 'g', expected: 0, state: stateOf([hit(0), hit(1)]), ttlMs: TTL }]);
    const [readByFirst] = await first.read(['g']);
    const [readBySecond] = await second.read(['g']);

    const fromSecond = next(readBySecond!, 1, [hit(3)]);
    expect(
      await second.write([
        { key: 'g', expected: readBySecond!.version, state: fromSecond, ttlMs: TTL, previous: readBySecond },
      ]),
    ).toEqual([true]);
    // The first store's change (drop none, append hit 2) was computed from a record no longer there.
    const stale = next(readByFirst!, 0, [hit(2)]);
    expect(
      await first.write([
        { key: 'g', expected: readByFirst!.version, state: stale, ttlMs: TTL, previous: readByFirst },
      ]),
    ).toEqual([false]);
    expect((await first.read(['g']))[0]!.state).toEqual(fromSecond);

    const [reread] = await first.read(['g']);
    const [h1, h3] = reread!.state.hits;
    const merged = stateOf([h1!, hit(2), h3!]);
    expect(
      await first.write([
        { key: 'g', expected: reread!.version, state: merged, ttlMs: TTL, previous: reread },
      ]),
    ).toEqual([true]);
    expect((await second.read(['g']))[0]!.state).toEqual(merged);
  });

  it('never reuses a version: a change read before the group was deleted and re-created is refused', async () => {
    const store = newStore();
    await store.write([{ key: 'g', expected: 0, state: stateOf([hit(0)]), ttlMs: TTL }]);
    const [old] = await store.read(['g']);
    await store.write([{ key: 'g', expected: old!.version, state: null, ttlMs: TTL, previous: old }]);
    // Re-created, and written as many times as it had been before.
    await store.write([{ key: 'g', expected: 0, state: stateOf([hit(5)]), ttlMs: TTL }]);
    const [recreated] = await store.read(['g']);
    expect(recreated!.version).not.toBe(old!.version);
    const stale = next(old!, 1, [hit(6)]);
    expect(
      await store.write([{ key: 'g', expected: old!.version, state: stale, ttlMs: TTL, previous: old }]),
    ).toEqual([false]);
    expect((await store.read(['g']))[0]!.state).toEqual(stateOf([hit(5)]));
  });

  it('refuses a change to a record of another length under the version read (a reset counter gave it again)', async () => {
    const storePrefix = `${prefix}-${++stores}`;
    const store = new RedisStateStore({ redis, prefix: storePrefix });
    await store.write([{ key: 'g', expected: 0, state: stateOf([0, 1, 2].map((i) => hit(i))), ttlMs: TTL }]);
    const [read] = await store.read(['g']);
    // The counter lost (evicted, flushed) and counted up to the version read again, by a whole write of a
    // window of one hit: the same version, another content.
    await redis.set(`${storePrefix}:window-version`, read!.version - 1);
    await redis.del(`${store.keyPrefix}g`);
    await store.write([{ key: 'g', expected: 0, state: stateOf([hit(7)]), ttlMs: TTL }]);
    expect((await store.read(['g']))[0]!.version).toBe(read!.version);
    const change = next(read!, 3, [hit(8)]);
    expect(
      await store.write([{ key: 'g', expected: read!.version, state: change, ttlMs: TTL, previous: read }]),
    ).toEqual([false]);
    expect((await store.read(['g']))[0]!.state).toEqual(stateOf([hit(7)]));
  });

  it('answers each write of a batch on its own: one refused, the others written', async () => {
    const store = newStore();
    await store.write([
      { key: 'a', expected: 0, state: stateOf([hit(0)]), ttlMs: TTL },
      { key: 'b', expected: 0, state: stateOf([hit(0)]), ttlMs: TTL },
    ]);
    const [a, b] = await store.read(['a', 'b']);
    expect(
      await store.write([
        { key: 'a', expected: a!.version, state: next(a!, 0, [hit(1)]), ttlMs: TTL, previous: a },
        { key: 'b', expected: b!.version + 1, state: next(b!, 0, [hit(1)]), ttlMs: TTL, previous: b },
        { key: 'c', expected: 0, state: stateOf([hit(2)]), ttlMs: TTL },
      ]),
    ).toEqual([true, false, true]);
    const [a2, b2, c2] = await store.read(['a', 'b', 'c']);
    expect(a2!.state.hits).toHaveLength(2);
    expect(b2!.state).toEqual(b!.state);
    expect(c2!.state).toEqual(stateOf([hit(2)]));
  });
});
