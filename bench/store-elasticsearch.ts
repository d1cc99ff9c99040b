/**
 * Elasticsearch store benchmark, in one run on the same node:
 *  1. the raw `_bulk` ceiling: the same documents pre-serialised to NDJSON, sent with `create`, two
 *     requests in flight, 5,000 documents each;
 *  2. our path: EventStore.index (shape check, serialisation, batcher, per-item handling), same batches;
 *  3. analyst queries and tile aggregations over what path 2 wrote.
 *
 * The ceiling and our path are compared on the same `--ceiling-events` events (both held in memory), in
 * `--rounds` rounds that alternate which path goes first, each into fresh indices; the ratio of each round
 * and their median are printed. The rest of `--events` is then indexed through our path, streamed, before
 * the queries run.
 *
 * On a shared machine the wall-clock rates say more about the load than about Elasticsearch, so both
 * indexing runs also print the node's CPU time per document (`_nodes/stats` process CPU: node-wide, so
 * other clients' work counts too; take the lowest of a few runs) and this process's, the load average,
 * and the indices' own indexing, refresh and merge times: what a node would take if it had the cores to
 * itself is roughly cores / CPU per document.
 *
 *   npx tsx bench/store-elasticsearch.ts [--events 1000000] [--ceiling-events 100000] [--rounds 3] [--batch 5000] [--keep]
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import type { SecurityEvent } from '../core/model.js';
import { createElasticsearchStores } from '../store/elasticsearch/index.js';
import { dailyIndex } from '../store/elasticsearch/mappings.js';
import { prepareEvent } from '../store/event-document.js';
import { eventBatches } from './event-dataset.js';
import { measureQueries, percentile } from './store-queries.js';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '1000000' },
    'ceiling-events': { type: 'string', default: '100000' },
    batch: { type: 'string', default: '5000' },
    rounds: { type: 'string', default: '3' },
    keep: { type: 'boolean', default: false },
  },
});
const url = process.env.ELASTICSEARCH_URL ?? 'http://127.0.0.1:9200';
const total = Number(values.events);
const ceilingEvents = Math.min(total, Number(values['ceiling-events']));
const batchSize = Number(values.batch);
const rounds = Number(values.rounds);
const to = Date.parse('2025-03-08T00:00:00Z');
const spanMs = 7 * 86_400_000;
const run = `bench-${Date.now().toString(36)}`;

function batches(seed: number): SecurityEvent[][] {
  return [...eventBatches(ceilingEvents, { from: to - spanMs, to, seed, batchSize })];
}

/** The node's process CPU time so far, in ms (node-wide: every client's work counts). */
async function nodeCpuMs(): Promise<number> {
  const stats = (await (await fetch(`${url}/_nodes/stats/process`)).json()) as {
    nodes: Record<string, { process: { cpu: { total_in_millis: number } } }>;
  };
  return Object.values(stats.nodes)[0]!.process.cpu.total_in_millis;
}

/** Primaries' indexing, refresh and merge times and segment count of the indices matching `pattern`. */
async function indexCosts(pattern: string): Promise<string> {
  const stats = (await (await fetch(`${url}/${pattern}/_stats/indexing,refresh,merge,segments`)).json()) as {
    _all: {
      primaries: {
        indexing: { index_time_in_millis: number };
        refresh: { total: number; total_time_in_millis: number };
        merges: { total: number; total_time_in_millis: number };
        segments: { count: number };
      };
    };
  };
  const p = stats._all.primaries;
  return (
    `indexing ${(p.indexing.index_time_in_millis / 1000).toFixed(1)} s, ${p.refresh.total} refreshes ${(p.refresh.total_time_in_millis / 1000).toFixed(1)} s, ` +
    `${p.merges.total} merges ${(p.merges.total_time_in_millis / 1000).toFixed(1)} s, ${p.segments.count} segments`
  );
}

/** Runs `measured` and prints the node's and this process's CPU per document and the load around it. */
async function withCosts(label: string, pattern: string, measured: () => Promise<number>): Promise<number> {
  const load = loadavg()[0]!;
  const nodeBefore = await nodeCpuMs();
  const ownBefore = process.cpuUsage();
  const rate = await measured();
  const nodeMs = (await nodeCpuMs()) - nodeBefore;
  const own = process.cpuUsage(ownBefore);
  const nodeUs = (nodeMs * 1000) / ceilingEvents;
  console.log(
    `es      ${label.padEnd(22)} ${Math.round(rate)} events/s; node CPU ${nodeUs.toFixed(0)} µs/doc ` +
      `(2 cores to itself: ~${Math.round(2e6 / nodeUs)} docs/s), client CPU ${((own.user + own.system) / ceilingEvents).toFixed(0)} µs/doc; ` +
      `load ${load.toFixed(1)} → ${loadavg()[0]!.toFixed(1)}; ${await indexCosts(pattern)}`,
  );
  return rate;
}

/** Runs `work` over the batches with two in flight; returns events per second. */
async function twoInFlight<T>(items: T[], work: (item: T) => Promise<void>): Promise<number> {
  let next = 0;
  const start = performance.now();
  await Promise.all(
    [0, 1].map(async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
  return ceilingEvents / ((performance.now() - start) / 1000);
}

// Both paths index the same events, each round into fresh indices (so every `create` is new), in the
// order raw, ours, ours, raw, raw, ours, … so that a drift in the machine's load over the run weighs on
// both alike; a warm-up round first, unmeasured (a cold JVM made the first ceiling run slow).
const rawBodies = batches(1).map((batch) =>
  batch
    .map((event) => {
      const prepared = prepareEvent(event);
      if (!prepared.ok) throw new Error(prepared.reason);
      const action = {
        create: { _index: dailyIndex(`${run}-raw`, prepared.event.sortTime), _id: prepared.event.id },
      };
      return `${JSON.stringify(action)}\n${prepared.event.json}\n`;
    })
    .join(''),
);
const ourBatches = batches(1);

async function deleteIndices(prefix: string): Promise<void> {
  const { indices = [] } = (await (await fetch(`${url}/_resolve/index/${prefix}-*`)).json()) as {
    indices?: { name: string }[];
  };
  if (indices.length > 0)
    await fetch(`${url}/${indices.map((index) => index.name).join(',')}`, { method: 'DELETE' });
  await fetch(`${url}/_index_template/${prefix}-events`, { method: 'DELETE' });
}

/** The raw ceiling: pre-serialised bodies, into indices of the same template under the `-raw` prefix. */
async function rawRound(label: string, measured: boolean): Promise<number> {
  const raw = createElasticsearchStores({ url, indexPrefix: `${run}-raw` });
  await raw.events.init();
  const send = async (body: string) => {
    const response = await fetch(`${url}/_bulk?filter_path=errors`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-ndjson' },
      body,
    });
    const answer = (await response.json()) as { errors: boolean };
    if (!response.ok || answer.errors) throw new Error('raw bulk had errors');
  };
  const bodies = measured ? rawBodies : rawBodies.slice(0, 2);
  const rate = measured
    ? await withCosts(label, `${run}-raw-events-*`, () => twoInFlight(bodies, send))
    : await twoInFlight(bodies, send);
  await raw.close();
  await deleteIndices(`${run}-raw`);
  return rate;
}

/** Our path: EventStore.index (shape check, serialisation, batcher, per-item handling), same batches. */
async function oursRound(label: string, measured: boolean): Promise<number> {
  const ours = createElasticsearchStores({ url, indexPrefix: `${run}-round` });
  await ours.events.init();
  const outcome = { indexed: 0, duplicates: 0, deadLettered: 0 };
  const items = measured ? ourBatches : ourBatches.slice(0, 2);
  const index = async (batch: SecurityEvent[]) => {
    const result = await ours.events.index(batch);
    outcome.indexed += result.indexed;
    outcome.duplicates += result.duplicates;
    outcome.deadLettered += result.deadLettered;
  };
  const rate = measured
    ? await withCosts(label, `${run}-round-events-*`, () => twoInFlight(items, index))
    : await twoInFlight(items, index);
  if (measured && outcome.indexed !== ceilingEvents)
    throw new Error(`our path indexed ${JSON.stringify(outcome)} of ${ceilingEvents} events`);
  await ours.close();
  await deleteIndices(`${run}-round`);
  return rate;
}

await rawRound('warm-up', false);
await oursRound('warm-up', false);
const ratios: number[] = [];
for (let round = 0; round < rounds; round++) {
  const oursFirst = round % 2 === 1;
  const rawRate = oursFirst ? 0 : await rawRound('raw _bulk ceiling', true);
  const ourRate = await oursRound('EventStore.index', true);
  const ceiling = oursFirst ? await rawRound('raw _bulk ceiling', true) : rawRate;
  ratios.push(ourRate / ceiling);
  console.log(
    `es      round ${round + 1}: ours ${Math.round(ourRate)} / raw ${Math.round(ceiling)} events/s = ${((ourRate / ceiling) * 100).toFixed(0)}% of the ceiling`,
  );
}
const sortedRatios = [...ratios].sort((a, b) => a - b);
console.log(
  `es      ${rounds} rounds: our path at ${sortedRatios.map((ratio) => `${(ratio * 100).toFixed(0)}%`).join(', ')} of the ceiling; median ${(percentile(sortedRatios, 50) * 100).toFixed(0)}%`,
);

// The data set through our path for the queries.
const ours = createElasticsearchStores({ url, indexPrefix: `${run}-ours` });
await ours.events.init();
let indexed = 0;
for (const batch of ourBatches) indexed += (await ours.events.index(batch)).indexed;
// The rest of the data set, then queries over our indices.
for (const batch of eventBatches(total - ceilingEvents, { from: to - spanMs, to, seed: 2, batchSize })) {
  indexed += (await ours.events.index(batch)).indexed;
}
console.log(`es      ${indexed} events indexed for the queries`);
await ours.events.refresh();
await ours.client.indices
  .forcemerge({ index: `${run}-ours-events-*`, max_num_segments: 1 })
  .catch(() => undefined);
await measureQueries(ours.events, to);

if (!values.keep) await deleteIndices(`${run}-ours`);
await ours.close();
