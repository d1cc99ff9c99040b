/**
 * API keys in the embedded store: one row per key, the record as JSON. Every API process (and the
 * `siem-lite keys` command) opening the same file sees the same keys, revocations included.
 */
import type { Database } from 'better-sqlite3';
import type { ApiKeyRepository, StoredApiKey, WriteOutcome } from '../../core/ports.js';

export const API_KEYS_SCHEMA = `CREATE TABLE IF NOT EXISTS api_keys (
  id TEXT PRIMARY KEY,
  created_at TEXT NOT NULL,
  doc TEXT NOT NULL
) WITHOUT ROWID`;

export class SqliteApiKeyRepository implements ApiKeyRepository {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  async init(): Promise<void> {
    this.#db.exec(API_KEYS_SCHEMA);
  }

  async create(key: StoredApiKey): Promise<WriteOutcome> {
    const changes = this.#db
      .prepare('INSERT OR IGNORE INTO api_keys (id, created_at, doc) VALUES (?, ?, ?)')
      .run(key.id, key.createdAt, JSON.stringify(key)).changes;
    return changes === 1 ? 'ok' : 'conflict';
  }

  async get(id: string): Promise<StoredApiKey | null> {
    const row = this.#db.prepare('SELECT doc FROM api_keys WHERE id = ?').get(id) as
      | { doc: string }
      | undefined;
    return row ? (JSON.parse(row.doc) as StoredApiKey) : null;
  }

  async list(): Promise<StoredApiKey[]> {
    const rows = this.#db.prepare('SELECT doc FROM api_keys ORDER BY created_at, id').all() as {
      doc: string;
    }[];
    return rows.map((row) => JSON.parse(row.doc) as StoredApiKey);
  }

  async revoke(id: string, at: string): Promise<boolean> {
    // One statement: two processes revoking at once cannot both succeed.
    const changes = this.#db
      .prepare(
        `UPDATE api_keys SET doc = json_set(doc, '$.revokedAt', ?)
         WHERE id = ? AND json_extract(doc, '$.revokedAt') IS NULL`,
      )
      .run(at, id).changes;
    return changes === 1;
  }

  async close(): Promise<void> {}
}
