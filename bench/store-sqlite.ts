/**
 * SQLite store benchmark: insert rate through EventStore.index, then analyst queries and tile
 * aggregations over the result. Events come from bench/event-dataset.ts (realistic lines through the real
 * normaliser); generating them is not timed. The rate is given against wall time and against the
 * process's CPU time: on a shared machine the second is the steadier measure of our own work.
 *
 *   npx tsx bench/store-sqlite.ts [--events 1000000] [--batch 5000] [--order time|random]
 *                                 [--path /tmp/siem-bench.db] [--reuse]   (--reuse: query an existing file)
 */
import { existsSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { createSqliteStores } from '../store/sqlite/index.js';
import { eventBatches } from './event-dataset.js';
import { measureQueries } from './store-queries.js';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '1000000' },
    batch: { type: 'string', default: '5000' },
    order: { type: 'string', default: 'time' },
    path: { type: 'string', default: '/tmp/siem-bench.db' },
    reuse: { type: 'boolean', default: false },
    runs: { type: 'string', default: '30' },
  },
});
const total = Number(values.events);
const to = Date.parse('2025-03-08T00:00:00Z');
const from = to - 7 * 86_400_000;
const reuse = values.reuse && existsSync(values.path);

if (!reuse) for (const suffix of ['', '-wal', '-shm']) rmSync(`${values.path}${suffix}`, { force: true });
const stores = createSqliteStores({ path: values.path });
await stores.events.init();

if (!reuse) {
  let indexed = 0;
  let wallMs = 0;
  let cpuMs = 0;
  const loads: number[] = [];
  const batches = eventBatches(total, {
    from,
    to,
    order: values.order === 'random' ? 'random' : 'time',
    batchSize: Number(values.batch),
  });
  for (const batch of batches) {
    const cpu = process.cpuUsage();
    const start = performance.now();
    indexed += (await stores.events.index(batch)).indexed;
    wallMs += performance.now() - start;
    const used = process.cpuUsage(cpu);
    cpuMs += (used.user + used.system) / 1000;
    if (loads.length < indexed / 50_000) loads.push(loadavg()[0]!);
  }
  console.log(
    `sqlite  inserted ${indexed} events (${values.order} order, batches of ${values.batch}): ` +
      `${Math.round(indexed / (wallMs / 1000))} events/s wall, ${Math.round(indexed / (cpuMs / 1000))} events/s CPU ` +
      `(load average ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)})`,
  );
}
await measureQueries(stores.events, to, Number(values.runs), true);
await stores.close();
