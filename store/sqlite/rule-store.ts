/**
 * Rules and filters in the embedded store, versioned like incidents (`UPDATE ... WHERE version = ?`).
 * `onChange` fires for changes made through this repository at once, and for changes made by another
 * process on the same file (e.g. a CLI) within a poll interval, by watching a generation counter.
 */
import { EventEmitter } from 'node:events';
import type { Database } from 'better-sqlite3';
import type { Versioned } from '../../core/model.js';
import type { RuleRepository, StoredRule, WriteOutcome } from '../../core/ports.js';

export const RULE_POLL_MS = 1000;

export class SqliteRuleRepository implements RuleRepository {
  readonly #db: Database;
  readonly #changes = new EventEmitter();
  readonly #pollMs: number;
  #timer: NodeJS.Timeout | undefined;
  #seenGeneration = 0;

  constructor(db: Database, options: { pollMs?: number } = {}) {
    this.#db = db;
    this.#pollMs = options.pollMs ?? RULE_POLL_MS;
  }

  async init(): Promise<void> {
    this.#db.exec(`CREATE TABLE IF NOT EXISTS rules (
  id TEXT PRIMARY KEY,
  version INTEGER NOT NULL,
  doc TEXT NOT NULL
) WITHOUT ROWID`);
    this.#db.exec(
      'CREATE TABLE IF NOT EXISTS rules_generation (one INTEGER PRIMARY KEY CHECK (one = 1), generation INTEGER NOT NULL)',
    );
    this.#db.exec('INSERT OR IGNORE INTO rules_generation (one, generation) VALUES (1, 0)');
    this.#seenGeneration = this.#generation();
  }

  async list(): Promise<Versioned<StoredRule>[]> {
    const rows = this.#db.prepare('SELECT doc, version FROM rules ORDER BY id').all() as Row[];
    return rows.map(toVersioned);
  }

  async get(id: string): Promise<Versioned<StoredRule> | null> {
    const row = this.#db.prepare('SELECT doc, version FROM rules WHERE id = ?').get(id) as Row | undefined;
    return row ? toVersioned(row) : null;
  }

  async put(rule: StoredRule, version: string | null): Promise<WriteOutcome> {
    let changes: number;
    if (version === null) {
      changes = this.#write('INSERT OR IGNORE INTO rules (id, version, doc) VALUES (?, 1, ?)', [
        rule.id,
        JSON.stringify(rule),
      ]);
    } else {
      if (!/^\d{1,15}$/.test(version)) return 'conflict';
      changes = this.#write('UPDATE rules SET version = version + 1, doc = ? WHERE id = ? AND version = ?', [
        JSON.stringify(rule),
        rule.id,
        Number(version),
      ]);
    }
    if (changes !== 1) return 'conflict';
    this.#changed();
    return 'ok';
  }

  async delete(id: string): Promise<boolean> {
    const changes = this.#write('DELETE FROM rules WHERE id = ?', [id]);
    if (changes === 1) this.#changed();
    return changes === 1;
  }

  async onChange(listener: () => void): Promise<() => Promise<void>> {
    this.#changes.on('change', listener);
    this.#timer ??= setInterval(() => this.#poll(), this.#pollMs).unref();
    return async () => {
      this.#changes.off('change', listener);
      if (this.#changes.listenerCount('change') === 0 && this.#timer) {
        clearInterval(this.#timer);
        this.#timer = undefined;
      }
    };
  }

  async close(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#changes.removeAllListeners();
  }

  /** A write and the generation bump in one transaction, so pollers never miss a change. */
  #write(sql: string, params: (string | number)[]): number {
    return this.#db.transaction(() => {
      const changes = this.#db.prepare(sql).run(...params).changes;
      if (changes > 0) this.#db.prepare('UPDATE rules_generation SET generation = generation + 1').run();
      return changes;
    })();
  }

  #changed(): void {
    this.#seenGeneration = this.#generation();
    this.#changes.emit('change');
  }

  #poll(): void {
    let generation: number;
    try {
      generation = this.#generation();
    } catch {
      return; // closed or busy: the next poll sees it
    }
    if (generation !== this.#seenGeneration) {
      this.#seenGeneration = generation;
      this.#changes.emit('change');
    }
  }

  #generation(): number {
    const row = this.#db.prepare('SELECT generation FROM rules_generation WHERE one = 1').get() as
      | { generation: number }
      | undefined;
    return row?.generation ?? 0;
  }
}

interface Row {
  doc: string;
  version: number;
}

function toVersioned(row: Row): Versioned<StoredRule> {
  return { value: JSON.parse(row.doc) as StoredRule, version: String(row.version) };
}
