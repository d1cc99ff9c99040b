/**
 * SQLite store benchmark: insert rate through EventStore.index, then analyst queries and tile
 * aggregations over the result.
 *
 *   npx tsx bench/store-sqlite.ts [--events 1000000] [--batch 5000] [--path /tmp/siem-bench.db]
 */
import { rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { SecurityEvent } from '../core/model.js';
import { createSqliteStores } from '../store/sqlite/index.js';
import { syntheticEvents } from './store-fixture.js';
import { measureQueries } from './store-queries.js';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '1000000' },
    batch: { type: 'string', default: '5000' },
    path: { type: 'string', default: '/tmp/siem-bench.db' },
  },
});
const total = Number(values.events);
const batchSize = Number(values.batch);
const to = Date.parse('2025-03-08T00:00:00Z');
const spanMs = 7 * 86_400_000;

for (const suffix of ['', '-wal', '-shm']) rmSync(`${values.path}${suffix}`, { force: true });
const stores = createSqliteStores({ path: values.path });
await stores.events.init();

let batch: SecurityEvent[] = [];
let indexed = 0;
let writeMs = 0;
for (const event of syntheticEvents(total, { from: to - spanMs, spanMs })) {
  batch.push(event);
  if (batch.length === batchSize) {
    const start = performance.now();
    indexed += (await stores.events.index(batch)).indexed;
    writeMs += performance.now() - start;
    batch = [];
  }
}
if (batch.length > 0) {
  const start = performance.now();
  indexed += (await stores.events.index(batch)).indexed;
  writeMs += performance.now() - start;
}
console.log(
  `sqlite  inserted ${indexed} events in ${(writeMs / 1000).toFixed(1)} s: ${Math.round(indexed / (writeMs / 1000))} events/s (batches of ${batchSize})`,
);
await measureQueries(stores.events, to);
await stores.close();
