/**
 * SQLite store benchmark: insert rate through EventStore.index, then analyst queries and tile
 * aggregations over the result. Events come from bench/event-dataset.ts (realistic lines through the real
 * normaliser); generating them is not timed. The rate is given against wall time and against the
 * process's CPU time: on a shared machine the second is the steadier measure of our own work.
 *
 *   npx tsx bench/store-sqlite.ts [--events 1000000] [--batch 5000] [--order time|random]
 *                                 [--path /tmp/siem-bench.db] [--reuse]   (--reuse: query an existing file)
 *                                 [--writer-thread] [--in-flight 2]
 *
 * --writer-thread: the inserts run on the store's writer thread as `siem-lite serve` runs them, with
 * --in-flight batches handed over before the first is answered (serve keeps two in flight), so the main
 * thread's shape check and serialisation overlap SQLite's work. CPU is the whole process's (all threads), split by
 * thread (Linux: /proc/self/task/<id>/schedstat): the main thread, the busiest other (the writer thread when
 * there is one) and the rest (V8's GC helpers, the reader thread).
 */
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import type { SecurityEvent } from '../core/model.js';
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
    'writer-thread': { type: 'boolean', default: false },
    'in-flight': { type: 'string', default: '2' },
  },
});
const total = Number(values.events);
const to = Date.parse('2025-03-08T00:00:00Z');
const from = to - 7 * 86_400_000;
const reuse = values.reuse && existsSync(values.path);
/** Events generated ahead of each timed stretch of inserts (~300 MB of objects). */
const CHUNK_EVENTS = 100_000;

if (!reuse) for (const suffix of ['', '-wal', '-shm']) rmSync(`${values.path}${suffix}`, { force: true });
const stores = createSqliteStores({ path: values.path, writerThread: values['writer-thread'] });
await stores.events.init();

if (!reuse) {
  let indexed = 0;
  let wallMs = 0;
  let cpuMs = 0;
  const threadMs = { main: 0, busiest: 0, rest: 0 };
  const loads: number[] = [];
  const batches = eventBatches(total, {
    from,
    to,
    order: values.order === 'random' ? 'random' : 'time',
    batchSize: Number(values.batch),
  });
  const inFlight = values['writer-thread'] ? Math.max(1, Number(values['in-flight'])) : 1;
  // Generation is not timed: batches are made a chunk at a time, then the chunk is inserted under the clock
  // (with a writer thread, the process's CPU counts both threads, so generating must not overlap it).
  for (;;) {
    const chunk: SecurityEvent[][] = [];
    for (let events = 0; events < CHUNK_EVENTS; ) {
      const next = batches.next();
      if (next.done) break;
      chunk.push(next.value);
      events += next.value.length;
    }
    if (chunk.length === 0) break;
    const cpu = process.cpuUsage();
    const threadsBefore = threadCpuMs();
    const start = performance.now();
    const running: Promise<number>[] = [];
    for (const batch of chunk) {
      running.push(stores.events.index(batch).then((result) => result.indexed));
      if (running.length >= inFlight) indexed += await running.shift()!;
    }
    for (const pending of running) indexed += await pending;
    wallMs += performance.now() - start;
    const used = process.cpuUsage(cpu);
    cpuMs += (used.user + used.system) / 1000;
    const spent = [...threadCpuMs()].map(([id, ms]) => ({ id, ms: ms - (threadsBefore.get(id) ?? 0) }));
    const others = spent.filter((thread) => thread.id !== String(process.pid)).sort((a, b) => b.ms - a.ms);
    threadMs.main += spent.find((thread) => thread.id === String(process.pid))?.ms ?? 0;
    threadMs.busiest += others[0]?.ms ?? 0;
    threadMs.rest += others.slice(1).reduce((sum, thread) => sum + thread.ms, 0);
    loads.push(loadavg()[0]!);
  }
  console.log(
    `sqlite  inserted ${indexed} events (${values.order} order, batches of ${values.batch}, ` +
      `${values['writer-thread'] ? `writer thread, ${inFlight} in flight` : 'inline'}): ` +
      `${Math.round(indexed / (wallMs / 1000))} events/s wall, ${Math.round(indexed / (cpuMs / 1000))} events/s CPU ` +
      `= ${((cpuMs * 1000) / indexed).toFixed(1)} µs CPU/event (load average ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)})`,
  );
  const perEvent = (ms: number) => `${((ms * 1000) / indexed).toFixed(1)} µs`;
  console.log(
    `sqlite  CPU an event by thread: main ${perEvent(threadMs.main)}, busiest other ${perEvent(threadMs.busiest)}, ` +
      `the rest ${perEvent(threadMs.rest)}`,
  );
}

/** CPU time of each of the process's threads in ms, by thread id (Linux schedstat: ns on the CPU). */
function threadCpuMs(): Map<string, number> {
  const threads = new Map<string, number>();
  for (const id of readdirSync('/proc/self/task')) {
    try {
      threads.set(id, Number(readFileSync(`/proc/self/task/${id}/schedstat`, 'utf8').split(' ')[0]) / 1e6);
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return threads;
}
await measureQueries(stores.events, to, Number(values.runs), true);
await stores.close();
