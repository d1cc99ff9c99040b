import type { Logger } from '../../core/logger.js';
import type { RecordBatch } from '../../core/model.js';
import type {
  BatchHandler,
  DeadLetter,
  DeadLetterQueue,
  RecordConsumer,
  RecordQueue,
} from '../../core/ports.js';
import { StoreUnavailableError } from '../../store/errors.js';

/** Longest wait between two tries of a batch while the store is unavailable. */
const MAX_UNAVAILABLE_DELAY_MS = 30_000;

/**
 * Dead letters kept by default: the newest ones. A batch holds up to `ingest.batch_max_records` raw records,
 * so an unbounded list could fill the disk during a long failure; past the bound the oldest are dropped
 * (and logged).
 */
export const MAX_DEAD_LETTERS = 10_000;

/**
 * Where the queue keeps its dead letters: in memory (tests, benchmarks) or in the embedded SQLite file
 * (`store/sqlite/queue-dead-letters.ts`), so they outlive a restart. Synchronous on purpose: a replay takes the
 * letter and queues its batch in one step, so two replays of one letter cannot both run it.
 */
export interface DeadLetterStore {
  /** Keeps the letter (replacing one with the same id) and the newest `keep` in all; returns how many were dropped. */
  add(letter: DeadLetter, keep: number): number;
  /** Newest first. */
  list(limit: number): { total: number; items: DeadLetter[] };
  /** Removes the letter and returns it; undefined if there is none. */
  take(id: string): DeadLetter | undefined;
}

/** Dead letters in memory: lost when the process ends. */
export class MemoryDeadLetterStore implements DeadLetterStore {
  readonly #letters: DeadLetter[] = [];

  add(letter: DeadLetter, keep: number): number {
    this.take(letter.id);
    this.#letters.push(letter);
    const dropped = Math.max(0, this.#letters.length - keep);
    this.#letters.splice(0, dropped);
    return dropped;
  }

  list(limit: number): { total: number; items: DeadLetter[] } {
    return { total: this.#letters.length, items: this.#letters.slice().reverse().slice(0, limit) };
  }

  take(id: string): DeadLetter | undefined {
    const at = this.#letters.findIndex((letter) => letter.id === id);
    return at < 0 ? undefined : this.#letters.splice(at, 1)[0];
  }
}

export interface InProcessQueueOptions {
  /** Pending batches before `saturated()` tells producers to back off. */
  maxPendingBatches: number;
  /** Batches processed at once. */
  concurrency: number;
  /** Attempts per batch before it goes to the dead-letter list (as BullMQ's `attempts`). */
  attempts?: number;
  /** First retry delay; doubles per attempt (as BullMQ's exponential backoff). */
  backoffMs?: number;
  /** Where dead letters are kept; in memory if absent (embedded serve passes the SQLite file's). */
  deadLetters?: DeadLetterStore;
  /** Dead letters kept, the newest (default `MAX_DEAD_LETTERS`). */
  maxDeadLetters?: number;
  logger: Logger;
}

export type { DeadLetter };

interface QueuedBatch {
  batch: RecordBatch;
  attempt: number;
  at?: number;
  /** Tries that met an unavailable store: they do not count as attempts, they only lengthen the wait. */
  unavailable?: number;
}

/**
 * Embedded mode's queue: the same job shape and retry semantics as the BullMQ queue, in memory; its dead
 * letters go to a `DeadLetterStore` (the SQLite file when serving, so they survive a restart).
 * It is bounded: producers see `saturated()` and back off (TCP pauses, HTTP answers 429), so memory
 * stays bounded; a batch is never dropped here.
 */
export class InProcessQueue implements RecordQueue, RecordConsumer, DeadLetterQueue {
  private readonly pending: QueuedBatch[] = [];
  private handler?: BatchHandler;
  private running = 0;
  private retrying = 0;
  private closed = false;
  private idleWaiters: (() => void)[] = [];
  private readonly deadLetters: DeadLetterStore;

  constructor(private readonly options: InProcessQueueOptions) {
    this.deadLetters = options.deadLetters ?? new MemoryDeadLetterStore();
  }

  async enqueue(batch: RecordBatch): Promise<void> {
    if (this.closed) throw new Error('queue is closed');
    this.pending.push({ batch, attempt: 1, at: Date.now() });
    this.pump();
  }

  /** When the oldest batch still waiting for a worker was queued (readiness, queue age metric). */
  async oldestWaitingAt(): Promise<number | null> {
    let oldest: number | null = null;
    for (const job of this.pending)
      if (job.at !== undefined && (oldest === null || job.at < oldest)) oldest = job.at;
    return oldest;
  }

  saturated(): boolean {
    return this.pending.length >= this.options.maxPendingBatches;
  }

  async depth(): Promise<number> {
    return this.pending.length + this.running + this.retrying;
  }

  async start(handler: BatchHandler): Promise<void> {
    this.handler = handler;
    this.pump();
  }

  /** Resolves when nothing is pending, running or waiting for a retry. */
  async idle(): Promise<void> {
    if (this.pending.length + this.running + this.retrying === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops taking new batches after draining what was accepted: nothing accepted is lost on shutdown. */
  async close(): Promise<void> {
    if (this.handler) await this.idle();
    this.closed = true;
  }

  /** Dead letters, newest first (the API's inspection list). */
  async list(limit: number): Promise<{ total: number; items: DeadLetter[] }> {
    return this.deadLetters.list(limit);
  }

  /** Puts a dead-lettered batch back on the queue with a fresh set of attempts. */
  async replay(id: string): Promise<boolean> {
    if (this.closed) return false;
    const letter = this.deadLetters.take(id);
    if (!letter) return false;
    this.pending.push({ batch: letter.batch, attempt: 1, at: Date.now() });
    this.pump();
    return true;
  }

  async discard(id: string): Promise<boolean> {
    return this.deadLetters.take(id) !== undefined;
  }

  private pump(): void {
    const handler = this.handler;
    if (!handler) return;
    while (this.running < this.options.concurrency && this.pending.length > 0) {
      const job = this.pending.shift()!;
      this.running++;
      handler(job.batch)
        .catch((error: unknown) => this.fail(job, error))
        .finally(() => {
          this.running--;
          this.pump();
          this.notifyIdle();
        });
    }
  }

  private fail(job: QueuedBatch, error: unknown): void {
    const attempts = this.options.attempts ?? 5;
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof StoreUnavailableError) {
      // The store is down: the batch waits and tries again, however long the outage; never dead-lettered.
      const unavailable = (job.unavailable ?? 0) + 1;
      const wait = Math.min(
        (this.options.backoffMs ?? 1000) * 2 ** (unavailable - 1),
        MAX_UNAVAILABLE_DELAY_MS,
      );
      this.options.logger.warn(
        { batch: job.batch.id, wait, err: message },
        'store unavailable, batch waits on the queue',
      );
      this.retrying++;
      setTimeout(() => {
        this.retrying--;
        this.pending.unshift({ ...job, unavailable });
        this.pump();
      }, wait);
      return;
    }
    if (job.attempt >= attempts) {
      this.options.logger.error(
        { batch: job.batch.id, attempts, err: message },
        'batch failed, dead-lettered',
      );
      this.keepDeadLetter({
        id: job.batch.id,
        batch: job.batch,
        error: message,
        attempts,
        failedAt: new Date().toISOString(),
      });
      return;
    }
    const delay = (this.options.backoffMs ?? 1000) * 2 ** (job.attempt - 1);
    this.options.logger.warn(
      { batch: job.batch.id, attempt: job.attempt, delay, err: message },
      'batch failed, retrying',
    );
    this.retrying++;
    setTimeout(() => {
      this.retrying--;
      this.pending.unshift({ batch: job.batch, attempt: job.attempt + 1, at: Date.now() });
      this.pump();
    }, delay);
  }

  private keepDeadLetter(letter: DeadLetter): void {
    const keep = this.options.maxDeadLetters ?? MAX_DEAD_LETTERS;
    try {
      const dropped = this.deadLetters.add(letter, keep);
      if (dropped > 0) this.options.logger.warn({ dropped, kept: keep }, 'oldest dead letters dropped');
    } catch (error) {
      // The batch is lost either way; say so loudly rather than fail the queue's bookkeeping.
      this.options.logger.error(
        { batch: letter.id, err: error instanceof Error ? error.message : String(error) },
        'dead letter could not be kept',
      );
    }
  }

  private notifyIdle(): void {
    if (this.pending.length + this.running + this.retrying > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
