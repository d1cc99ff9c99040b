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
 *   npx tsx bench/store-elasticsearch.ts [--events 1000000] [--ceiling-events 100000] [--batch 5000] [--keep]
 */
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
      return `${JSON.stringify(action)}\n${JSON.stringify(prepared.event.document)}\n`;
    })
    .join(''),
);
const rawRate = await twoInFlight(rawBodies, async (body) => {
  const response = await fetch(`${url}/_bulk?filter_path=errors`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-ndjson' },
    body,
  });
  const answer = (await response.json()) as { errors: boolean };
  if (!response.ok || answer.errors) throw new Error('raw bulk had errors');
});
console.log(`es      raw _bulk ceiling      ${Math.round(rawRate)} events/s`);

// 2. Our indexing path.
const ours = createElasticsearchStores({ url, indexPrefix: `${run}-ours` });
await ours.events.init();
const ourBatches = batches(1);
let indexed = 0;
const ourRate = await twoInFlight(ourBatches, async (batch) => {
  const result = await ours.events.index(batch);
  indexed += result.indexed;
});
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
