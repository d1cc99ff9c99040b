/**
 * The source inventory in the embedded store: one row per source, read-modify-written in one transaction
 * per `record` call (SQLite serialises writers, so concurrent workers never lose a count).
 */
import type { Database } from 'better-sqlite3';
import type { SourceInventory, SourceObservation, SourceRecord } from '../../core/ports.js';
import { foldObservations, mergeSource } from '../source-inventory.js';
import { inList } from './query-sql.js';

export class SqliteSourceInventory implements SourceInventory {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  async init(): Promise<void> {
    this.#db.exec(`CREATE TABLE IF NOT EXISTS sources (
  id TEXT PRIMARY KEY,
  agency TEXT NOT NULL,
  doc TEXT NOT NULL
) WITHOUT ROWID`);
    this.#db.exec('CREATE INDEX IF NOT EXISTS sources_agency ON sources (agency)');
  }

  async record(observations: SourceObservation[]): Promise<void> {
    if (observations.length === 0) return;
    const folded = foldObservations(observations);
    const read = this.#db.prepare('SELECT doc FROM sources WHERE id = ?');
    const write = this.#db.prepare(
      'INSERT INTO sources (id, agency, doc) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET doc = excluded.doc',
    );
    this.#db
      .transaction(() => {
        for (const [id, observation] of folded) {
          const row = read.get(id) as { doc: string } | undefined;
          const next = mergeSource(row ? (JSON.parse(row.doc) as SourceRecord) : undefined, observation);
          write.run(id, next.agency, JSON.stringify(next));
        }
      })
      .immediate();
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
