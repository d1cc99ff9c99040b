/**
 * Where an embedded insert's CPU goes, part by part (µs of CPU per event, median of five passes over the
 * same batches): the shape check with the document's JSON, the full-text terms, the whole calling-thread
 * part (toEventRows), the structured clone the writer thread's hand-off costs, and SQLite's inserts
 * (SqliteWriter on a fresh file, as the writer thread runs them; median of three files). The schema
 * variants measure options without changing the store:
 *
 *   npx tsx bench/store-sqlite-parts.ts [--events 100000] [--fts full|none|off] [--page-size 16384] [--sql-only]
 *
 * --fts none: FTS5 `detail=none` (no positions); off: no full-text rows at all.
 */
import { rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import BetterSqlite3 from 'better-sqlite3';
import type { SecurityEvent } from '../core/model.js';
import { prepareEvent } from '../store/event-document.js';
import { toEventRows } from '../store/sqlite/event-store.js';
import { schemaStatements } from '../store/sqlite/schema.js';
import { SqliteWriter } from '../store/sqlite/writer.js';
import { textTokens } from '../store/text-tokens.js';
import { eventBatches } from './event-dataset.js';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '100000' },
    fts: { type: 'string', default: 'full' },
    'page-size': { type: 'string', default: '16384' },
    'sql-only': { type: 'boolean', default: false },
  },
});
const total = Number(values.events);
const to = Date.parse('2025-03-08T00:00:00Z');
const batches: SecurityEvent[][] = [
  ...eventBatches(total, { from: to - 7 * 86_400_000, to, order: 'time', batchSize: 5000 }),
];

function cpuMicros(): number {
  const used = process.cpuUsage();
  return used.user + used.system;
}

function median(samples: number[]): number {
  return [...samples].sort((a, b) => a - b)[Math.floor(samples.length / 2)]!;
}

function part(name: string, passes: number, run: (batch: SecurityEvent[]) => void): void {
  const samples: number[] = [];
  for (let pass = 0; pass < passes; pass++) {
    const start = cpuMicros();
    for (const batch of batches) run(batch);
    samples.push((cpuMicros() - start) / total);
  }
  console.log(
    `${name.padEnd(34)} ${median(samples).toFixed(1).padStart(6)} µs/event  (passes: ${samples.map((s) => s.toFixed(1)).join(', ')})`,
  );
}

console.log(`${total} events, load average ${loadavg()[0]!.toFixed(1)}`);
if (!values['sql-only']) {
  part('shape check + JSON', 5, (batch) => {
    for (const event of batch) prepareEvent(event);
  });
  part('full-text terms', 5, (batch) => {
    for (const event of batch) if (typeof event.message === 'string') textTokens(event.message).join(' ');
  });
  part('toEventRows (calling thread, all)', 5, (batch) => {
    toEventRows(batch);
  });
}
const rows = batches.map((batch) => toEventRows(batch));
if (values.fts === 'off') for (const batch of rows) batch.terms = batch.terms.map(() => '');
if (!values['sql-only']) {
  const samples: number[] = [];
  for (let pass = 0; pass < 5; pass++) {
    const start = cpuMicros();
    for (const batch of rows) structuredClone(batch);
    samples.push((cpuMicros() - start) / total);
  }
  console.log(
    `${'hand-off: structured clone'.padEnd(34)} ${median(samples).toFixed(1).padStart(6)} µs/event`,
  );
}
const samples: number[] = [];
for (let file = 0; file < 3; file++) {
  const path = join(tmpdir(), `siem-bench-parts-${process.pid}.db`);
  for (const suffix of ['', '-wal', '-shm']) rmSync(`${path}${suffix}`, { force: true });
  // The writer thread's settings (connection.ts, writer-thread.ts), with the page size under test.
  const db = new BetterSqlite3(path);
  db.pragma(`page_size = ${Number(values['page-size'])}`);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('cache_size = -16384');
  db.pragma('temp_store = MEMORY');
  for (const statement of schemaStatements()) {
    db.exec(
      values.fts === 'none' && statement.includes('events_fts')
        ? statement.replace("content=''", "content='', detail=none")
        : statement,
    );
  }
  const writer = new SqliteWriter(db);
  // A copy per file (the writer turns IP text into bytes in place), made before the clock starts.
  const copies = rows.map((batch) => structuredClone(batch));
  const start = cpuMicros();
  for (const batch of copies) writer.writeEvents(batch);
  samples.push((cpuMicros() - start) / total);
  db.close();
  for (const suffix of ['', '-wal', '-shm']) rmSync(`${path}${suffix}`, { force: true });
}
console.log(
  `${`SQLite inserts (fts ${values.fts}, ${values['page-size']} B pages)`.padEnd(34)} ${median(samples).toFixed(1).padStart(6)} µs/event  (files: ${samples.map((s) => s.toFixed(1)).join(', ')})`,
);
