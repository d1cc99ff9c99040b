/**
 * The audit trail in the embedded store: append-only rows, read newest first by (time, id) keyset.
 */
import type { Database } from 'better-sqlite3';
import type { AuditEntry, AuditLog, AuditSearch } from '../../core/ports.js';
import {
  checkPageLimit,
  decodeAuditCursor,
  encodeAuditCursor,
  MAX_AUDIT_PAGE,
  timeBound,
} from '../api-cursors.js';

export class SqliteAuditLog implements AuditLog {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  async init(): Promise<void> {
    this.#db.exec(`CREATE TABLE IF NOT EXISTS audit (
  id TEXT PRIMARY KEY,
  at TEXT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  target_type TEXT NOT NULL,
  target_id TEXT NOT NULL,
  doc TEXT NOT NULL
) WITHOUT ROWID`);
    this.#db.exec('CREATE INDEX IF NOT EXISTS audit_at ON audit (at, id)');
    this.#db.exec('CREATE INDEX IF NOT EXISTS audit_target ON audit (target_id, at)');
  }

  async append(entries: AuditEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const insert = this.#db.prepare(
      `INSERT OR IGNORE INTO audit (id, at, actor, action, target_type, target_id, doc)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    );
    this.#db.transaction(() => {
      for (const entry of entries) {
        insert.run(
          entry.id,
          new Date(entry.at).toISOString(),
          entry.actor,
          entry.action,
          entry.targetType,
          entry.targetId,
          JSON.stringify(entry),
        );
      }
    })();
  }

  async list(search: AuditSearch): Promise<{ entries: AuditEntry[]; next?: string }> {
    const limit = checkPageLimit(search.limit, MAX_AUDIT_PAGE, 100);
    const clauses: string[] = [];
    const params: string[] = [];
    const equal = (column: string, value: string | undefined) => {
      if (value === undefined) return;
      clauses.push(`${column} = ?`);
      params.push(value);
    };
    equal('actor', search.actor);
    equal('action', search.action);
    equal('target_type', search.targetType);
    equal('target_id', search.targetId);
    const from = timeBound(search.time?.from);
    const to = timeBound(search.time?.to);
    if (from) {
      clauses.push('at >= ?');
      params.push(from);
    }
    if (to) {
      clauses.push('at < ?');
      params.push(to);
    }
    if (search.after !== undefined) {
      const [at, id] = decodeAuditCursor(search.after);
      clauses.push('(at < ? OR (at = ? AND id < ?))');
      params.push(at, at, id);
    }
    const rows = this.#db
      .prepare(
        `SELECT doc, at FROM audit WHERE ${clauses.length ? clauses.join(' AND ') : '1'}
         ORDER BY at DESC, id DESC LIMIT ?`,
      )
      .all(...params, limit + 1) as { doc: string; at: string }[];
    const entries = rows.slice(0, limit).map((row) => JSON.parse(row.doc) as AuditEntry);
    const last = rows.length > limit ? rows[limit - 1] : undefined;
    return {
      entries,
      ...(last ? { next: encodeAuditCursor([last.at, entries[entries.length - 1]!.id]) } : {}),
    };
  }

  async refresh(): Promise<void> {}

  async close(): Promise<void> {}
}
