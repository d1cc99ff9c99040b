/**
 * Where an embedded insert's CPU goes, part by part (µs of CPU per event, median of five passes over the
 * same batches): the shape check with the document's JSON, the full-text terms, the whole calling-thread
 * part (toEventRows), the structured clone the writer thread's hand-off costs, and SQLite's inserts
 * (SqliteWriter on a fresh file, as the writer thread runs them; median of three files). The schema
 * variants measure options without changing the store:
 *
 *   npx tsx bench/store-sqlite-parts.ts [--events 100000] [--fts full|none|off] [--page-size 16384] [--sql-only]
 *                                       [--batch 5000] (events a batch, and so a transaction)
 *
 * --fts none: FTS5 `detail=none` (no positions); off: no full-text rows at all.
 *
 * What grows with the file: SQLite's inserts only, into one fresh file per variant, the same chunks of
 * 100,000 events going into every file in turn (the order rotating from chunk to chunk, so that the load of
 * the machine falls on all of them alike); CPU and bytes written (`/proc/self/io` wchar: what SQLite handed
 * to write(), WAL and checkpoints) of each chunk:
 *
 *   npx tsx bench/store-sqlite-parts.ts --grow [--events 1000000] [--variants base,checkpoint1k,...] (names: GROW_VARIANTS)
 */
import { readFileSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import BetterSqlite3 from 'better-sqlite3';
import type { SecurityEvent } from '../core/model.js';
import { prepareEvent } from '../store/event-document.js';
import { toEventRows } from '../store/sqlite/event-rows.js';
import { EXTRA_HOT_FIELDS, schemaStatements } from '../store/sqlite/schema.js';
import { EVENT_ROW_WIDTH, type EventRows, SqliteWriter } from '../store/sqlite/writer.js';
import { textTokens } from '../store/text-tokens.js';
import { eventBatches } from './event-dataset.js';

interface GrowVariant {
  name: string;
  /** Applied to the schema statements of a fresh file. */
  schema?: (statement: string) => string | null;
  /** Run after the schema, before the first insert. */
  setup?: string[];
  cacheMb?: number;
  /** Bytes a page (default: the store's 16384). */
  pageSize?: number;
  /** Run after every batch (the writer's idle time), timed apart from the inserts. */
  idle?: string;
  /** Run `idle` only once this many events were written since its last run (default: every batch). */
  idleEvery?: number;
  /** Events per transaction when not `--batch`'s (each batch written in slices of this many). */
  transaction?: number;
  /** The writer's address step (schema.ts ADDRESS_STEP); Infinity: no entry ever moved, no address index. */
  addressStep?: number;
}

const FTS_OPTIONS = "content='', contentless_delete=1";

/** Options of the writer's file, each against `base` (the schema and settings the writer thread has). */
const GROW_VARIANTS: GrowVariant[] = [
  { name: 'base' },
  // The same as base: how far two identical files differ on this machine.
  { name: 'base-again' },
  // Incompatible with contentless_delete=1 (SQLite refuses both): measured without retention's deletes.
  { name: 'columnsize0', schema: (s) => s.replace(FTS_OPTIONS, "content='', columnsize=0") },
  { name: 'pgsz16k', setup: ["INSERT INTO events_fts (events_fts, rank) VALUES ('pgsz', 16000)"] },
  { name: 'hashsize8m', setup: ["INSERT INTO events_fts (events_fts, rank) VALUES ('hashsize', 8388608)"] },
  { name: 'automerge16', setup: ["INSERT INTO events_fts (events_fts, rank) VALUES ('automerge', 16)"] },
  {
    name: 'idlemerge',
    setup: ["INSERT INTO events_fts (events_fts, rank) VALUES ('automerge', 0)"],
    idle: "INSERT INTO events_fts (events_fts, rank) VALUES ('merge', 500)",
  },
  // Base writes the address entries in steps (schema 9). These write none and keep an index on event_rows
  // instead (the statement that drops it replaced by the one that made it), or nothing at all.
  { name: 'no-source-ip-index', addressStep: Number.POSITIVE_INFINITY },
  // The address index of schemas 7 and 8, keyed on the hour: a leaf per event at e2e's rate and addresses.
  {
    name: 'hour-source-ip-index',
    addressStep: Number.POSITIVE_INFINITY,
    schema: (s) =>
      s.includes('DROP INDEX IF EXISTS events_hour_source_ip')
        ? 'CREATE INDEX IF NOT EXISTS events_hour_source_ip ON event_rows (substr(ts, 1, 13), source_ip, ts)'
        : s,
  },
  // The address index as it was until schema 7, `(source_ip, ts)`: a leaf per distinct address a transaction.
  {
    name: 'ts-source-ip-index',
    addressStep: Number.POSITIVE_INFINITY,
    schema: (s) =>
      s.includes('DROP INDEX IF EXISTS events_hour_source_ip')
        ? 'CREATE INDEX IF NOT EXISTS events_source_ip_ts ON event_rows (source_ip, ts)'
        : s,
  },
  { name: 'no-agency-index', schema: (s) => (s.includes('events_agency_ts') ? null : s) },
  { name: 'no-kind-index', schema: (s) => (s.includes('events_event_kind_ts') ? null : s) },
  { name: 'cache64', cacheMb: 64 },
  // SQLite's default, the store's setting until 2026-11-26 evening (base: 10,000).
  { name: 'checkpoint1k', setup: ['PRAGMA wal_autocheckpoint = 1000'] },
  { name: 'checkpoint4k', setup: ['PRAGMA wal_autocheckpoint = 4000'] },
  // e2e's transactions: one 500-line batch each (the pipeline's two batches in flight rarely group).
  { name: 'txn500', transaction: 500 },
  { name: 'txn1000', transaction: 1000 },
  // Checkpoints out of the commits: none automatic; a passive checkpoint every 50k events, timed apart (as a
  // checkpoint on another connection would take it off the writer).
  {
    name: 'checkpoint-apart',
    setup: ['PRAGMA wal_autocheckpoint = 0'],
    idle: 'PRAGMA wal_checkpoint(PASSIVE)',
    idleEvery: 50_000,
  },
  { name: 'pg4k', pageSize: 4096 },
  { name: 'pg8k', pageSize: 8192 },
];

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '100000' },
    fts: { type: 'string', default: 'full' },
    'page-size': { type: 'string', default: '16384' },
    'sql-only': { type: 'boolean', default: false },
    // Events per batch, and so per transaction of the inserts (e2e's batches: 500).
    batch: { type: 'string', default: '5000' },
    // --grow: event time at this many events a second (default: 7 days over --events, ~1.7/s), and the
    // source addresses drawn from this many (default: the dataset's ~320 attackers). e2e: 13,000/s, 62,500.
    rate: { type: 'string', default: '0' },
    addresses: { type: 'string', default: '0' },
    grow: { type: 'boolean', default: false },
    variants: { type: 'string', default: GROW_VARIANTS.map((variant) => variant.name).join(',') },
  },
});
const total = Number(values.events);
const batchSize = Number(values.batch);
const to = Date.parse('2025-03-08T00:00:00Z');
if (values.grow) {
  await grow(
    Number(values.events),
    values.variants.split(',').map((name) => {
      const variant = GROW_VARIANTS.find((candidate) => candidate.name === name);
      if (!variant) throw new Error(`no variant ${name}`);
      return variant;
    }),
  );
  process.exit(0);
}
const batches: SecurityEvent[][] = [
  ...eventBatches(total, { from: to - 7 * 86_400_000, to, order: 'time', batchSize }),
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
  writerSettings(db, 16);
  for (const statement of schemaStatements()) {
    db.exec(
      values.fts === 'none' && statement.includes('events_fts')
        ? statement.replace("content=''", "content='', detail=none")
        : statement,
    );
  }
  const writer = new SqliteWriter(db);
  const start = cpuMicros();
  for (const batch of rows) writer.writeEvents(batch);
  samples.push((cpuMicros() - start) / total);
  db.close();
  for (const suffix of ['', '-wal', '-shm']) rmSync(`${path}${suffix}`, { force: true });
}
console.log(
  `${`SQLite inserts (fts ${values.fts}, ${values['page-size']} B pages, ${batchSize}/txn)`.padEnd(34)} ${median(samples).toFixed(1).padStart(6)} µs/event  (files: ${samples.map((s) => s.toFixed(1)).join(', ')})`,
);

/** The writer thread's settings (connection.ts, writer-thread.ts) but the page size. */
function writerSettings(db: BetterSqlite3.Database, cacheMb: number): void {
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('wal_autocheckpoint = 10000');
  db.pragma(`cache_size = -${cacheMb * 1024}`);
  db.pragma('temp_store = MEMORY');
}

/**
 * `--rate`, `--addresses`: the rows' time as `--rate` events a second from `to` on, and their source
 * address one of `--addresses` (the documents keep theirs: the inserts' cost is in the rows' columns).
 */
function reshape(batches: EventRows[], first: number): void {
  const rate = Number(values.rate);
  const addresses = Number(values.addresses);
  let n = first;
  for (const batch of batches) {
    for (let row = 0; row < batch.docs.length; row++) {
      const at = row * EVENT_ROW_WIDTH;
      if (rate > 0)
        batch.values[at + 1] =
          `${new Date(to + Math.floor((1000 * n) / rate)).toISOString().slice(0, 23)}000000Z`;
      if (addresses > 0) {
        const k = Math.floor(Math.random() * addresses);
        batch.values[at + 3 + EXTRA_HOT_FIELDS.findIndex((field) => field.column === 'source_ip')] =
          `198.18.${(k >> 8) & 255}.${k & 255}`;
      }
      n++;
    }
  }
}

/** `batch` as batches of `size` events (dead letters in the first), or whole without a size. */
function slices(batch: EventRows, size: number | undefined): EventRows[] {
  if (size === undefined || batch.docs.length <= size) return [batch];
  const parts: EventRows[] = [];
  for (let at = 0; at < batch.docs.length; at += size) {
    parts.push({
      values: batch.values.slice(at * EVENT_ROW_WIDTH, (at + size) * EVENT_ROW_WIDTH),
      docs: batch.docs.slice(at, at + size),
      terms: batch.terms.slice(at, at + size),
      deadLetters: at === 0 ? batch.deadLetters : [],
    });
  }
  return parts;
}

function ioWritten(): number {
  const match = /^wchar: (\d+)$/m.exec(readFileSync('/proc/self/io', 'utf8'));
  return Number(match![1]);
}

async function grow(events: number, variants: GrowVariant[]): Promise<void> {
  const chunkEvents = 100_000;
  const files = variants.map((variant) => {
    const path = join(tmpdir(), `siem-bench-grow-${process.pid}-${variant.name}.db`);
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${path}${suffix}`, { force: true });
    const db = new BetterSqlite3(path);
    db.pragma(`page_size = ${variant.pageSize ?? 16384}`);
    writerSettings(db, variant.cacheMb ?? 16);
    for (const statement of schemaStatements()) {
      const changed = variant.schema ? variant.schema(statement) : statement;
      if (changed !== null) db.exec(changed);
    }
    for (const statement of variant.setup ?? []) db.exec(statement);
    const idle = variant.idle;
    const writer = new SqliteWriter(
      db,
      variant.addressStep === undefined ? {} : { addressStep: variant.addressStep },
    );
    return { variant, path, db, writer, idle, sinceIdle: 0 };
  });
  console.log(
    `${events} events, ${variants.length} variants, chunks of ${chunkEvents}, load ${loadavg()[0]!.toFixed(1)}`,
  );
  console.log('rows     variant              µs CPU/event (sys)  idle µs   KB written/event');
  const batches = eventBatches(events, { from: to - 7 * 86_400_000, to, order: 'time', batchSize });
  for (let chunk = 0; ; chunk++) {
    const rows = [];
    for (let n = 0; n < chunkEvents; ) {
      const next = batches.next();
      if (next.done) break;
      rows.push(toEventRows(next.value));
      n += next.value.length;
    }
    if (rows.length === 0) break;
    reshape(rows, chunk * chunkEvents);
    const count = rows.reduce((sum, batch) => sum + batch.docs.length, 0);
    for (let i = 0; i < files.length; i++) {
      const file = files[(i + chunk) % files.length]!;
      const copies = rows.flatMap((batch) => slices(batch, file.variant.transaction));
      let idleCpu = 0;
      const written = ioWritten();
      const start = process.cpuUsage();
      for (const batch of copies) {
        file.writer.writeEvents(batch);
        file.sinceIdle += batch.docs.length;
        if (file.idle && file.sinceIdle >= (file.variant.idleEvery ?? 0)) {
          file.sinceIdle = 0;
          const idleStart = process.cpuUsage();
          file.db.exec(file.idle);
          const used = process.cpuUsage(idleStart);
          idleCpu += used.user + used.system;
        }
      }
      const used = process.cpuUsage(start);
      const bytes = ioWritten() - written;
      const cpu = (used.user + used.system - idleCpu) / count;
      console.log(
        `${String((chunk + 1) * chunkEvents).padStart(8)} ${file.variant.name.padEnd(20)} ${cpu.toFixed(1).padStart(6)} (${(used.system / count).toFixed(1).padStart(5)})` +
          `  ${(idleCpu / count).toFixed(1).padStart(7)}   ${(bytes / count / 1024).toFixed(1).padStart(6)}   load ${loadavg()[0]!.toFixed(1)}`,
      );
    }
  }
  for (const file of files) {
    const fullText = file.db.prepare('SELECT sum(length(block)) AS n FROM events_fts_data').get() as {
      n: number;
    };
    const bytes = statSync(file.path).size;
    console.log(
      `${file.variant.name.padEnd(20)} file ${(bytes / 1e6).toFixed(0)} MB, full-text data ${(fullText.n / 1e6).toFixed(0)} MB`,
    );
    file.db.close();
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${file.path}${suffix}`, { force: true });
  }
}
