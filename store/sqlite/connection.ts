/**
 * Opening the embedded store's file: the settings every connection that writes it uses (the main
 * connection and the writer thread's).
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';

/**
 * `cacheMb`: SQLite's page cache for this connection (anonymous memory, part of the worker's RSS). The 32 MB
 * default is the main connection's, which serves the API's searches and lists: 64 MB took no CPU off the
 * analyst searches over 1M events, 16 MB made the address pivots 1.5–2.5× dearer (5 → 8–13 ms), and
 * whatever it holds stays in serve's RSS once one count or search has filled it (docs/benchmarks.md, issue
 * 6, "Embedded mode: serve's memory at full rate, bounded"). The writer thread needs less (writer-thread.ts).
 */
export function openDatabase(path: string, options: { cacheMb?: number } = {}): BetterSqlite3.Database {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new BetterSqlite3(path);
  // Larger pages: fewer B-tree splits per inserted document (a new file only; an existing one keeps its own).
  db.pragma('page_size = 16384');
  db.pragma('journal_mode = WAL');
  // NORMAL in WAL mode: a crash can lose the last transactions but never corrupts the file; it syncs only at
  // checkpoints. (OFF would skip those syncs too, and a power cut could then corrupt the file; FULL syncs
  // every commit.)
  db.pragma('synchronous = NORMAL');
  // Checkpoint every 10,000 pages (160 MB of WAL) instead of SQLite's 1,000: a page rewritten by many
  // transactions between two checkpoints (an index's leaves, the full-text segments) is copied into the file
  // once per checkpoint, so fewer checkpoints write less. 1M events on the writer's settings: 9.5 -> 7.2 KB
  // written an event, 27-28 -> 25.5 us of CPU (docs/store-sqlite.md). The WAL file stays at its largest
  // size on disk after a checkpoint, up to ~160 MB beside the store.
  db.pragma('wal_autocheckpoint = 10000');
  db.pragma('busy_timeout = 5000');
  db.pragma(`cache_size = -${(options.cacheMb ?? 32) * 1024}`);
  db.pragma('temp_store = MEMORY');
  return db;
}
