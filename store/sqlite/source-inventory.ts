/**
 * The source inventory in the embedded store: one row per source, read-modify-written in one transaction
 * per `record` call (writer.ts sourceRecorder; SQLite serialises writers, so concurrent workers never lose a
 * count).
 */
import type { Database } from 'better-sqlite3';
import type { SourceInventory, SourceObservation, SourceRecord } from '../../core/ports.js';
import { inList } from './query-sql.js';
import { sourceRecorder } from './writer.js';
import type { WriterClient } from './writer-client.js';

export class SqliteSourceInventory implements SourceInventory {
  readonly #db: Database;
  readonly #record: (observations: SourceObservation[]) => Promise<void>;

  /**
   * `writer`: the store's writer (index.ts), whose thread folds the flushes into its own group transactions
   * so the caller never waits for the file's write lock (docs/store-sqlite.md); default inline on `db`.
   * Reads always use `db`.
   */
  constructor(db: Database, writer?: Pick<WriterClient, 'recordSources'>) {
    this.#db = db;
    if (writer) this.#record = (observations) => writer.recordSources(observations);
    else {
      const record = sourceRecorder(db);
      this.#record = async (observations) => record(observations);
    }
  }

  async init(): Promise<void> {
    this.#db.exec(`CREATE TABLE IF NOT EXISTS sources (
  id TEXT PRIMARY KEY,
  agency TEXT NOT NULL,
  doc TEXT NOT NULL
) WITHOUT ROWID`);
    this.#db.exec('CREATE INDEX IF NOT EXISTS sources_agency ON sources (agency)');
  }

  record(observations: SourceObservation[]): Promise<void> {
    return this.#record(observations);
  }

  async list(scope: { agencies?: string[] }): Promise<SourceRecord[]> {
    if (scope.agencies?.length === 0) return [];
    const agencies = scope.agencies === undefined ? undefined : inList('agency', scope.agencies);
    const rows = (
      agencies === undefined
        ? this.#db.prepare('SELECT doc FROM sources').all()
        : this.#db.prepare(`SELECT doc FROM sources WHERE ${agencies.sql}`).all(agencies.params)
    ) as { doc: string }[];
    return rows
      .map((row) => JSON.parse(row.doc) as SourceRecord)
      .sort((a, b) => compare(a.agency, b.agency) || compare(a.host, b.host));
  }

  async close(): Promise<void> {}
}

/** Code-unit order, as Elasticsearch sorts keywords (for the ASCII names sources have). */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
