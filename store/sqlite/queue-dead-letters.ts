/**
 * The in-process queue's dead letters (batches that failed every attempt) in the embedded store's file, so
 * they outlive a restart as BullMQ's failed set does in Redis. Not the `deadletter` table: that one holds
 * single events the store refused. Written on the store's main connection, not the writer thread: dead
 * letters are rare, and a replay must take the row and queue the batch in one synchronous step.
 */
import type { Database, Statement } from 'better-sqlite3';
import type { DeadLetter } from '../../core/ports.js';

/** Implements `DeadLetterStore` (correlator/queue/in-process.ts). */
export class SqliteQueueDeadLetters {
  readonly #db: Database;
  readonly #insert: Statement<[string, string]>;
  readonly #trim: Statement<[number]>;
  readonly #count: Statement<[], number>;
  readonly #newest: Statement<[number], string>;
  readonly #take: Statement<[string], string>;

  /** The table `queue_dead_letters` must exist (schema.ts creates it with the rest of the layout). */
  constructor(db: Database) {
    this.#db = db;
    // REPLACE: a batch dead-lettered again (after a replay) keeps one row, the newest.
    this.#insert = db.prepare('INSERT OR REPLACE INTO queue_dead_letters (id, doc) VALUES (?, ?)');
    // Everything at or below the first row past the newest `keep` (none if there are fewer).
    this.#trim = db.prepare(
      'DELETE FROM queue_dead_letters WHERE seq <= (SELECT seq FROM queue_dead_letters ORDER BY seq DESC LIMIT 1 OFFSET ?)',
    );
    this.#count = db.prepare<[], number>('SELECT count(*) FROM queue_dead_letters').pluck();
    this.#newest = db
      .prepare<[number], string>('SELECT doc FROM queue_dead_letters ORDER BY seq DESC LIMIT ?')
      .pluck();
    this.#take = db
      .prepare<[string], string>('DELETE FROM queue_dead_letters WHERE id = ? RETURNING doc')
      .pluck();
  }

  add(letter: DeadLetter, keep: number): number {
    return this.#db
      .transaction(() => {
        this.#insert.run(letter.id, JSON.stringify(letter));
        return this.#trim.run(keep).changes;
      })
      .immediate();
  }

  list(limit: number): { total: number; items: DeadLetter[] } {
    const total = this.#count.get() ?? 0;
    const items = this.#newest.all(limit).map((doc) => JSON.parse(doc) as DeadLetter);
    return { total, items };
  }

  take(id: string): DeadLetter | undefined {
    const doc = this.#take.get(id);
    return doc === undefined ? undefined : (JSON.parse(doc) as DeadLetter);
  }
}
