/**
 * Elasticsearch store benchmark, in one run on the same node:
 *  1. the raw `_bulk` ceiling: the same documents pre-serialised to NDJSON, sent with `create`, two
 *     requests in flight, 5,000 documents each;
 *  2. our path: EventStore.index (shape check, serialisation, batcher, per-item handling), same batches;
 *  3. analyst queries and tile aggregations over what path 2 wrote.
 *
 * The ceiling and our path are compared on the same `--ceiling-events` events (both held in memory); the
 * rest of `--events` is then indexed through our path, streamed, before the queries run.
 *
 * On a shared machine the wall-clock rates say more about the load than about Elasticsearch, so both
 * indexing runs also print the node's CPU time per document (`_nodes/stats` process CPU: node-wide, so
 * other clients' work counts too; take the lowest of a few runs) and this process's, the load average,
 * and the indices' own indexing, refresh and merge times: what a node would take if it had the cores to
 * itself is roughly cores / CPU per document.
 *
 *   npx tsx bench/store-elasticsearch.ts [--events 1000000] [--ceiling-events 100000] [--batch 5000] [--keep]
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import type { SecurityEvent } from '../core/model.js';
import { createElasticsearchStores } from '../store/elasticsearch/index.js';
import { dailyIndex } from '../store/elasticsearch/mappings.js';
import { prepareEvent } from '../store/event-document.js';
import { eventBatches } from './event-dataset.js';
import { measureQueries } from './store-queries.js';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '1000000' },
    'ceiling-events': { type: 'string', default: '100000' },
    batch: { type: 'string', default: '5000' },
    keep: { type: 'boolean', default: false },
  },
});
const url = process.env.ELASTICSEARCH_URL ?? 'http://127.0.0.1:9200';
const total = Number(values.events);
const ceilingEvents = Math.min(total, Number(values['ceiling-events']));
const batchSize = Number(values.batch);
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

// 1. Raw ceiling, into its own prefix with the same template.
const raw = createElasticsearchStores({ url, indexPrefix: `${run}-raw` });
await raw.events.init();
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
const rawRate = await withCosts('raw _bulk ceiling', `${run}-raw-events-*`, () =>
  twoInFlight(rawBodies, async (body) => {
    const response = await fetch(`${url}/_bulk?filter_path=errors`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-ndjson' },
      body,
    });
    const answer = (await response.json()) as { errors: boolean };
    if (!response.ok || answer.errors) throw new Error('raw bulk had errors');
  }),
);

// 2. Our indexing path.
const ours = createElasticsearchStores({ url, indexPrefix: `${run}-ours` });
await ours.events.init();
const ourBatches = batches(1);
let indexed = 0;
const ourRate = await withCosts('EventStore.index', `${run}-ours-events-*`, () =>
  twoInFlight(ourBatches, async (batch) => {
    const result = await ours.events.index(batch);
    indexed += result.indexed;
  }),
);
console.log(
  `es      EventStore.index       ${Math.round(ourRate)} events/s (${indexed} indexed), ${((ourRate / rawRate) * 100).toFixed(0)}% of the ceiling`,
);

// 3. The rest of the data set through our path, then queries over our indices.
for (const batch of eventBatches(total - ceilingEvents, { from: to - spanMs, to, seed: 2, batchSize })) {
  indexed += (await ours.events.index(batch)).indexed;
}
console.log(`es      ${indexed} events indexed for the queries`);
await ours.events.refresh();
await ours.client.indices
  .forcemerge({ index: `${run}-ours-events-*`, max_num_segments: 1 })
  .catch(() => undefined);
await measureQueries(ours.events, to);

if (!values.keep) {
  for (const prefix of [`${run}-raw`, `${run}-ours`]) {
    const { indices = [] } = (await (await fetch(`${url}/_resolve/index/${prefix}-*`)).json()) as {
      indices?: { name: string }[];
    };
    if (indices.length > 0)
      await fetch(`${url}/${indices.map((index) => index.name).join(',')}`, { method: 'DELETE' });
    await fetch(`${url}/_index_template/${prefix}-events`, { method: 'DELETE' });
  }
}
await raw.close();
await ours.close();
