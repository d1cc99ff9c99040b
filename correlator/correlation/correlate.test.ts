/**
 * The correlator's windows against the rules engine's reference evaluator, in both modes (memory and the
 * real Redis): the reference's cases, random in-order streams (fast-check), re-delivery, out-of-order
 * arrival within the allowed lateness, late hits, and concurrent workers on one Redis.
 */
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../core/logger.js';
import type { SecurityEvent } from '../../core/model.js';
import {
  type CorrelationHit,
  evaluateCorrelations,
  type RuleHit,
  ruleSetFromText,
} from '../../rules/index.js';
import { REDIS_URL, uniquePrefix } from '../../test/support/services.js';
import { detect } from '../detect.js';
import { Correlator } from './correlate.js';
import { MemoryStateStore } from './memory-state-store.js';
import { RedisStateStore } from './redis-state-store.js';
import type { CorrelationStateStore, StoredGroup } from './state-store.js';

const logger = createLogger({ level: 'silent' });
const MINUTE = 60_000;

const BASE_RULES = `title: Failed login
id: 11111111-1111-4111-8111-111111111111
name: failed_login
logsource: {product: linux, service: sshd}
detection:
  sel: {event.outcome: failure}
  condition: sel
---
title: Accepted login
id: 22222222-2222-4222-8222-222222222222
name: accepted_login
logsource: {product: linux, service: sshd}
detection:
  sel: {event.outcome: success}
  condition: sel
`;

const correlation = (id: string, body: string) => `title: Correlation ${id}
id: ${id}-0000-4000-8000-000000000000
name: c_${id}
correlation:
${body
  .trim()
  .split('\n')
  .map((line) => `  ${line}`)
  .join('\n')}
level: high
`;

const CASES: Record<string, string> = {
  brute_force: correlation(
    'aaaaaaaa',
    'type: event_count\nrules: [failed_login]\ngroup-by: [source.ip]\ntimespan: 10m\ncondition: {gte: 3}',
  ),
  spraying: correlation(
    'bbbbbbbb',
    'type: value_count\nrules: [failed_login]\ngroup-by: [source.ip]\ntimespan: 5m\ncondition: {gte: 3, field: user.name}',
  ),
  success_after_failure: correlation(
    'cccccccc',
    'type: temporal_ordered\nrules: [failed_login, accepted_login]\ngroup-by: [source.ip]\ntimespan: 1h',
  ),
  both_outcomes: correlation(
    'dddddddd',
    'type: temporal\nrules: [failed_login, accepted_login]\ngroup-by: [source.ip]\ntimespan: 2m',
  ),
  bytes_sum: correlation(
    'eeeeeeee',
    'type: value_sum\nrules: [failed_login]\ngroup-by: [source.ip]\ntimespan: 10m\ncondition: {gte: 100, field: source.bytes}',
  ),
  bytes_avg: correlation(
    'ffffffff',
    'type: value_avg\nrules: [failed_login]\ngroup-by: [source.ip]\ntimespan: 10m\ncondition: {gt: 40, field: source.bytes}',
  ),
  bytes_percentile: correlation(
    'abababab',
    'type: value_percentile\nrules: [failed_login]\ngroup-by: [source.ip]\ntimespan: 10m\ncondition: {gte: 48, percentile: 95, field: source.bytes}',
  ),
  bytes_median: correlation(
    'cdcdcdcd',
    'type: value_median\nrules: [failed_login]\ngroup-by: [source.ip]\ntimespan: 10m\ncondition: {gte: 30, field: source.bytes}',
  ),
  ungrouped_range: correlation(
    'efefefef',
    'type: event_count\nrules: [failed_login, accepted_login]\ntimespan: 3m\ncondition: {gte: 2, lte: 4}',
  ),
  chained: `${correlation(
    'aaaaaaaa',
    'type: event_count\nrules: [failed_login]\ngroup-by: [source.ip]\ntimespan: 10m\ncondition: {gte: 3}',
  )}---\n${correlation(
    '12121212',
    'type: event_count\nrules: [c_aaaaaaaa]\ngroup-by: [source.ip]\ntimespan: 1h\ncondition: {gte: 2}',
  )}`,
};

function loadCase(name: string) {
  const { ruleSet, problems } = ruleSetFromText(`${BASE_RULES}---\n${CASES[name]}`);
  expect(problems).toEqual([]);
  return ruleSet;
}

/** [seconds, outcome, ip, user?, bytes?] */
type Row = [number, 'failure' | 'success', string, string?, number?];

function eventsOf(rows: Row[], agency = 'so-tttt'): SecurityEvent[] {
  return rows.map(([seconds, outcome, ip, user, bytes], i) => ({
    '@timestamp': new Date(Date.UTC(2026, 10, 26) + seconds * 1000).toISOString(),
    event: { id: `e${i}`, ingested: '2026-11-26T00:00:00Z', original: '', outcome },
    process: { name: 'sshd' },
    source: { ip, ...(bytes !== undefined ? { bytes } : {}) },
    ...(user ? { user: { name: user } } : {}),
    agency: { id: agency },
  }));
}

/** What the reference evaluator fires over the events in time order: rule, group, time, value, events. */
function reference(name: string, rows: Row[]) {
  const ruleSet = loadCase(name);
  const hits: RuleHit<string>[] = [];
  for (const event of eventsOf(rows)) {
    for (const match of ruleSet.match(event)) {
      hits.push({ ruleId: match.rule.id, event, time: Date.parse(event['@timestamp']), ref: event.event.id });
    }
  }
  return inFiringOrder(evaluateCorrelations(ruleSet.correlations, hits).map(summary));
}

/** Firings of different groups in one batch come out group by group: compare them in time order. */
function inFiringOrder<T extends { time: string; rule: string; groupBy: Record<string, string> }>(
  fired: T[],
): T[] {
  const key = (f: T) => `${f.time} ${f.rule} ${JSON.stringify(f.groupBy)}`;
  return [...fired].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

function summary(hit: CorrelationHit<string>) {
  return {
    rule: hit.rule.id,
    groupBy: hit.groupBy,
    time: new Date(hit.time).toISOString(),
    value: hit.value,
    events: [...new Set(hit.refs)].sort(),
  };
}

interface Mode {
  name: string;
  store(): CorrelationStateStore;
}

/**
 * The Redis store with every group it reads frozen, hits and firings included: a write's change is found by
 * the identity of the hits kept (redis-record.ts, `changeOf`), so a state machine that modified a hit or
 * firing it was given would write a window other than its own. Here that throws instead.
 */
class FrozenReadsRedisStore extends RedisStateStore {
  override async read(keys: string[]): Promise<(StoredGroup | null)[]> {
    const groups = await super.read(keys);
    for (const group of groups) if (group) deepFreeze(group.state);
    return groups;
  }
}

function deepFreeze(value: unknown): void {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return;
  Object.freeze(value);
  for (const inner of Object.values(value)) deepFreeze(inner);
}

let redis: Redis;
const prefix = uniquePrefix('correlate');
let storeCount = 0;
const modes: Mode[] = [
  { name: 'memory', store: () => new MemoryStateStore() },
  // Every group packed into its encoded record between batches (what an idle group becomes after 10 s).
  { name: 'memory, packed', store: () => new MemoryStateStore(Date.now, 0) },
  {
    name: 'redis',
    store: () => new FrozenReadsRedisStore({ redis, prefix: `${prefix}-${++storeCount}` }),
  },
];

beforeAll(() => {
  redis = new Redis(REDIS_URL);
});
afterAll(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
});

/** Runs the events through the real correlator, in the given batches (lists of event indexes). */
async function correlate(
  store: CorrelationStateStore,
  name: string,
  rows: Row[],
  batches: number[][] = [rows.map((_, i) => i)],
  latenessMs = 5 * MINUTE,
  correlator = new Correlator(store, { latenessMs, maxHitsPerGroup: 10_000, logger }),
) {
  const ruleSet = loadCase(name);
  const events = eventsOf(rows);
  const detections = [];
  const late = new Set<string>();
  for (const [b, batch] of batches.entries()) {
    const matches = detect(
      batch.map((i) => events[i]!),
      ruleSet,
      `batch-${b}`,
      { groupBy: [] },
    );
    const output = await correlator.correlate(ruleSet, matches, `batch-${b}`);
    detections.push(...output.detections);
    for (const id of output.lateEventIds) late.add(id);
  }
  return {
    late,
    detections,
    fired: inFiringOrder(
      detections.map((d) => ({
        rule: d.ruleId,
        groupBy: d.groupBy,
        time: d.timestamp,
        value: d.correlation!.value,
        events: [...d.eventIds].sort(),
      })),
    ),
  };
}

const burst = (count: number, ip = '10.0.0.1', step = 1): Row[] =>
  Array.from({ length: count }, (_, i) => [i * step, 'failure', ip] as Row);

const REFERENCE_STREAMS: [string, Row[]][] = [
  [
    'brute_force',
    [
      [0, 'failure', '10.0.0.1'],
      [300, 'failure', '10.0.0.1'],
      [600, 'failure', '10.0.0.1'],
    ],
  ],
  [
    'brute_force',
    [
      [0, 'failure', '10.0.0.1'],
      [300, 'failure', '10.0.0.1'],
      [600.001, 'failure', '10.0.0.1'],
    ],
  ],
  [
    'brute_force',
    [
      [0, 'failure', '10.0.0.1'],
      [1, 'failure', '10.0.0.2'],
      [2, 'failure', '10.0.0.1'],
    ],
  ],
  ['brute_force', burst(7)],
  [
    'spraying',
    [
      [0, 'failure', '10.0.0.9', 'alice'],
      [1, 'failure', '10.0.0.9', 'alice'],
      [2, 'failure', '10.0.0.9'],
      [3, 'failure', '10.0.0.9', 'bob'],
    ],
  ],
  [
    'spraying',
    [
      [0, 'failure', '10.0.0.9', 'alice'],
      [1, 'failure', '10.0.0.9', 'bob'],
      [2, 'failure', '10.0.0.9', 'carol'],
    ],
  ],
  [
    'success_after_failure',
    [
      [0, 'failure', '10.0.0.3'],
      [10, 'success', '10.0.0.3'],
    ],
  ],
  [
    'success_after_failure',
    [
      [0, 'success', '10.0.0.3'],
      [10, 'failure', '10.0.0.3'],
    ],
  ],
  [
    'both_outcomes',
    [
      [0, 'success', '10.0.0.3'],
      [10, 'failure', '10.0.0.3'],
    ],
  ],
  ['chained', burst(6, '10.0.0.4', 10)],
  [
    'bytes_sum',
    [
      [0, 'failure', '1.1.1.1', 'a', 40],
      [1, 'failure', '1.1.1.1', 'a', 50],
      [2, 'failure', '1.1.1.1', 'a', 10],
    ],
  ],
  [
    'bytes_sum',
    [
      [0, 'failure', '1.1.1.1', 'a', 40],
      [1, 'failure', '1.1.1.1', 'a', 50],
    ],
  ],
  [
    'bytes_avg',
    [
      [0, 'failure', '1.1.1.1', 'a', 10],
      [1, 'failure', '1.1.1.1', 'a', 90],
    ],
  ],
  [
    'bytes_median',
    [
      [0, 'failure', '1.1.1.1', 'a', 10],
      [1, 'failure', '1.1.1.1', 'a', 30],
      [2, 'failure', '1.1.1.1', 'a', 50],
    ],
  ],
  [
    'bytes_percentile',
    [
      [0, 'failure', '1.1.1.1', 'a', 10],
      [1, 'failure', '1.1.1.1', 'a', 30],
      [2, 'failure', '1.1.1.1', 'a', 50],
    ],
  ],
  [
    'ungrouped_range',
    [
      [0, 'failure', '1.1.1.1'],
      [1, 'success', '2.2.2.2'],
      [200, 'failure', '3.3.3.3'],
    ],
  ],
];

describe.each(modes)('correlator windows ($name)', (mode) => {
  it.each(REFERENCE_STREAMS.map(([name, rows], i) => [`${i}: ${name}`, name, rows] as const))(
    'fires exactly as the reference evaluator, in one batch and one event per batch — case %s',
    async (_label, name, rows) => {
      const expected = reference(name, rows);
      expect((await correlate(mode.store(), name, rows)).fired).toEqual(expected);
      const single = rows.map((_, i) => [i]);
      expect((await correlate(mode.store(), name, rows, single)).fired).toEqual(expected);
    },
  );

  it('matches the reference on random in-order streams, whatever the batching', async () => {
    const names = Object.keys(CASES);
    const row = fc.tuple(
      fc.integer({ min: 0, max: 240 }),
      fc.constantFrom<'failure' | 'success'>('failure', 'success'),
      fc.constantFrom('10.0.0.1', '10.0.0.2'),
      fc.constantFrom('alice', 'bob', 'carol', 'dave'),
      fc.integer({ min: 0, max: 60 }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...names),
        fc.array(row, { maxLength: 25 }),
        fc.integer({ min: 1, max: 6 }),
        async (name, unsorted, batchSize) => {
          // Seconds × 30: windows of 2 to 60 minutes see both dense and sparse stretches.
          const rows = unsorted
            .map(([s, o, ip, user, bytes]) => [s * 30, o, ip, user, bytes] as Row)
            .sort((a, b) => a[0] - b[0]);
          const batches: number[][] = [];
          for (let i = 0; i < rows.length; i += batchSize) {
            batches.push(rows.slice(i, i + batchSize).map((_, j) => i + j));
          }
          const { fired } = await correlate(mode.store(), name, rows, batches);
          expect(fired).toEqual(reference(name, rows));
        },
      ),
      { numRuns: mode.name === 'redis' ? 60 : 200 },
    );
  });

  it('does not double-count a re-delivered batch, and returns its firing again', async () => {
    const store = mode.store();
    const correlator = new Correlator(store, { latenessMs: 5 * MINUTE, maxHitsPerGroup: 10_000, logger });
    const rows = burst(5);
    // Batch 1 = events 0–2 (fires), delivered twice; then 3–4, then 3–4 again: no second firing.
    const first = await correlate(
      store,
      'brute_force',
      rows,
      [
        [0, 1, 2],
        [0, 1, 2],
      ],
      undefined,
      correlator,
    );
    expect(first.detections).toHaveLength(2);
    expect(first.detections[1]!.id).toBe(first.detections[0]!.id);
    const rest = await correlate(
      store,
      'brute_force',
      rows,
      [
        [3, 4],
        [3, 4],
      ],
      undefined,
      correlator,
    );
    expect(rest.detections).toHaveLength(0);
    const more = await correlate(
      store,
      'brute_force',
      [...rows, [5, 'failure', '10.0.0.1']],
      [[5]],
      undefined,
      correlator,
    );
    expect(more.fired.map((f) => f.events)).toEqual([['e3', 'e4', 'e5']]);
  });

  it('after a firing, tells a re-delivered consumed hit from a new hit older than the firing', async () => {
    // 0, 60, 120 fire at 120. Then, within the lateness: e1 (60) and e2 (120) re-delivered, which are
    // consumed (e2 completed the firing: it is returned again), and e3 (90), e4 (100), e5 (130), which are
    // new though e3 and e4 are older than the firing: they count, and fire together at 130.
    const store = mode.store();
    const correlator = new Correlator(store, { latenessMs: 5 * MINUTE, maxHitsPerGroup: 10_000, logger });
    const rows: Row[] = [
      [0, 'failure', '10.0.0.1'],
      [60, 'failure', '10.0.0.1'],
      [120, 'failure', '10.0.0.1'],
      [90, 'failure', '10.0.0.1'],
      [100, 'failure', '10.0.0.1'],
      [130, 'failure', '10.0.0.1'],
    ];
    const run = await correlate(
      store,
      'brute_force',
      rows,
      [[0, 1, 2], [1], [3, 2], [4], [1, 5]],
      undefined,
      correlator,
    );
    expect(run.fired.map((f) => [f.time.slice(11, 19), f.events])).toEqual([
      ['00:02:00', ['e0', 'e1', 'e2']],
      ['00:02:00', ['e0', 'e1', 'e2']],
      ['00:02:10', ['e3', 'e4', 'e5']],
    ]);
    expect(new Set(run.detections.map((d) => d.id)).size).toBe(2);
    expect(run.late.size).toBe(0);
  });

  it('does not double-count a re-delivered batch in a large group either (over 32 retained hits)', async () => {
    // 60 hits of 0 bytes from one address, 4 s apart: no firing, every hit retained; then 60 and 50 bytes
    // reach the sum of 100. Every batch arrives twice: a counted duplicate of the 60 would fire early.
    const rows: Row[] = Array.from({ length: 60 }, (_, i): Row => [i * 4, 'failure', '10.0.0.1', 'a', 0]);
    rows.push([240, 'failure', '10.0.0.1', 'a', 60], [244, 'failure', '10.0.0.1', 'a', 50]);
    const batches: number[][] = [];
    for (let i = 0; i < 60; i += 10) {
      const batch = rows.slice(i, i + 10).map((_, j) => i + j);
      batches.push(batch, batch);
    }
    batches.push([60], [60], [61], [61]);
    const { detections, fired } = await correlate(mode.store(), 'bytes_sum', rows, batches);
    expect(new Set(detections.map((d) => d.id)).size).toBe(1);
    expect(fired.slice(0, 1)).toEqual(reference('bytes_sum', rows));
    expect(fired[0]!.time).toBe(new Date(Date.UTC(2026, 10, 26) + 244_000).toISOString());
  });

  it('counts out-of-order hits within the allowed lateness as if on time, and flags later ones', async () => {
    // In time order: 0, 60, 120 fire. Arriving 120, 0, 60 (2 minutes out of order): the same firing.
    const rows: Row[] = [
      [0, 'failure', '10.0.0.1'],
      [60, 'failure', '10.0.0.1'],
      [120, 'failure', '10.0.0.1'],
    ];
    const shuffled = await correlate(mode.store(), 'brute_force', rows, [[2], [0], [1]]);
    expect(shuffled.fired).toEqual(reference('brute_force', rows));
    expect(shuffled.late.size).toBe(0);

    // Lateness 1 minute: the hit 2 minutes behind is late — flagged, not counted, no firing.
    const strict = await correlate(mode.store(), 'brute_force', rows, [[2], [1], [0]], MINUTE);
    expect(strict.fired).toEqual([]);
    expect([...strict.late]).toEqual(['e0']);
  });

  it('flags a hit whose time is not a date like a late one: not counted, the rest of its batch counted', async () => {
    const rows: Row[] = [
      [0, 'failure', '10.0.0.9'],
      [10, 'failure', '10.0.0.9'],
      [20, 'failure', '10.0.0.9'],
      [30, 'failure', '10.0.0.9'],
    ];
    const ruleSet = loadCase('brute_force');
    const events = eventsOf(rows);
    events[1]!['@timestamp'] = 'not a time';
    const correlator = new Correlator(mode.store(), {
      latenessMs: 5 * MINUTE,
      maxHitsPerGroup: 10_000,
      logger,
    });
    const output = await correlator.correlate(
      ruleSet,
      detect(events, ruleSet, 'nan', { groupBy: [] }),
      'nan',
    );
    expect([...output.lateEventIds]).toEqual(['e1']);
    expect(output.detections.map((d) => [...d.eventIds].sort())).toEqual([['e0', 'e2', 'e3']]);
  });

  it('temporal_ordered sees the order of event time, not of arrival', async () => {
    const rows: Row[] = [
      [0, 'failure', '10.0.0.3'],
      [10, 'success', '10.0.0.3'],
    ];
    const reversed = await correlate(mode.store(), 'success_after_failure', rows, [[1], [0]]);
    expect(reversed.fired).toEqual(reference('success_after_failure', rows));
  });

  it('gives the same firings in any arrival order when each firing is one burst within the window', async () => {
    // 12 failures within one 10m window, threshold 3: four firings and every event in one, in any order.
    const rows = burst(12, '10.0.0.7', 20);
    const expected = reference('brute_force', rows);
    const order = [7, 2, 11, 0, 5, 9, 1, 10, 3, 6, 8, 4];
    const shuffled = await correlate(
      mode.store(),
      'brute_force',
      rows,
      order.map((i) => [i]),
    );
    expect(shuffled.fired).toHaveLength(expected.length);
    expect(shuffled.fired.flatMap((f) => f.events).sort()).toEqual(expected.flatMap((f) => f.events).sort());
    const latest = (fired: { time: string }[]) =>
      fired
        .map((f) => f.time)
        .sort()
        .at(-1);
    expect(latest(shuffled.fired)).toBe(latest(expected));
  });

  it('cross-agency correlations belong to the province and list the agencies', async () => {
    const ruleSet = loadCase('spraying');
    const events = [
      ...eventsOf([[0, 'failure', '10.0.0.9', 'alice']], 'so-tttt'),
      ...eventsOf([[1, 'failure', '10.0.0.9', 'bob']], 'so-y-te'),
      ...eventsOf([[2, 'failure', '10.0.0.9', 'carol']], 'so-tttt'),
    ].map((event, i) => ({ ...event, event: { ...event.event, id: `x${i}` } }));
    const correlator = new Correlator(mode.store(), { latenessMs: MINUTE, maxHitsPerGroup: 100, logger });
    const output = await correlator.correlate(ruleSet, detect(events, ruleSet, 'b', { groupBy: [] }), 'b');
    expect(output.detections).toHaveLength(1);
    expect(output.detections[0]).toMatchObject({
      agency: 'province',
      agencies: ['so-tttt', 'so-y-te'],
      firstSeen: events[0]!['@timestamp'],
      timestamp: events[2]!['@timestamp'],
      correlation: { type: 'value_count', value: 3 },
      eventIds: ['x0', 'x1', 'x2'],
    });
    expect(output.detections[0]!.detectionIds).toHaveLength(3);
  });
});

describe('correlation state in Redis under concurrent workers', () => {
  it('four correlators racing on one group count every hit exactly once', async () => {
    const store = () => new FrozenReadsRedisStore({ redis, prefix: `${prefix}-race` });
    const rows = burst(40, '10.0.0.8', 1);
    const ruleSet = loadCase('brute_force');
    const events = eventsOf(rows);
    const correlators = Array.from(
      { length: 4 },
      () => new Correlator(store(), { latenessMs: 5 * MINUTE, maxHitsPerGroup: 10_000, logger }),
    );
    const outputs = await Promise.all(
      Array.from({ length: 10 }, (_, b) => {
        const batch = events.slice(b * 4, b * 4 + 4);
        return correlators[b % 4]!.correlate(
          ruleSet,
          detect(batch, ruleSet, `r${b}`, { groupBy: [] }),
          `r${b}`,
        );
      }),
    );
    const detections = outputs.flatMap((o) => o.detections);
    // 40 hits, threshold 3, one window: 13 firings, 39 distinct events in them, none twice.
    expect(detections).toHaveLength(13);
    const events39 = detections.flatMap((d) => d.eventIds);
    expect(new Set(events39).size).toBe(39);
    expect(events39).toHaveLength(39);
  });

  it('bounds memory: a group is one compact record that expires after timespan + lateness', async () => {
    const store = new RedisStateStore({ redis, prefix: `${prefix}-memory` });
    const correlator = new Correlator(store, { latenessMs: 5 * MINUTE, maxHitsPerGroup: 10_000, logger });
    const ruleSet = loadCase('brute_force');
    const events = eventsOf([
      [0, 'failure', '10.1.0.1'],
      [1, 'failure', '10.1.0.2'],
    ]);
    await correlator.correlate(ruleSet, detect(events, ruleSet, 'm', { groupBy: [] }), 'm');
    const usage = await store.usage();
    expect(usage.groups).toBe(2);
    const keys = await redis.keys(`${store.keyPrefix}*`);
    const ttl = await redis.pttl(keys[0]!);
    expect(ttl).toBeGreaterThan(14 * MINUTE);
    expect(ttl).toBeLessThanOrEqual(15 * MINUTE);
  });
});
