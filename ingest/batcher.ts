import { newBatchId } from '../core/identity.js';
import type { Logger } from '../core/logger.js';
import type { RawRecord, RecordBatch } from '../core/model.js';
import type { RecordQueue } from '../core/ports.js';

export interface BatcherOptions {
  queue: RecordQueue;
  maxRecords: number;
  maxWaitMs: number;
  logger: Logger;
  /** Called once a batch is in the queue. */
  onQueued?: (batch: RecordBatch) => void;
  /** Called for a batch given up on at shutdown (queue unavailable until the deadline). */
  onLost?: (batch: RecordBatch, error: unknown) => void;
  /** How long `close()` keeps retrying a failing queue before giving a batch up (counted as lost). */
  closeDeadlineMs?: number;
}

const MAX_BACKOFF_MS = 5_000;
/** Batches handed to the queue and not yet confirmed, beyond which producers are told to wait. */
const MAX_IN_FLIGHT = 8;

/**
 * Groups records into RecordBatches (at most `maxRecords`, or whatever arrived within `maxWaitMs` of the
 * first) and hands them to the queue. A failing queue (Redis down) is retried with backoff while the batch
 * stays in memory and producers are told to back off; nothing is given up except at shutdown, after a
 * deadline, and then it is reported.
 */
export class RecordBatcher {
  private records: RawRecord[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private failing = 0;
  private closing = false;
  private closeDeadline = Number.POSITIVE_INFINITY;

  constructor(private readonly options: BatcherOptions) {}

  add(record: RawRecord): void {
    this.records.push(record);
    if (this.records.length >= this.options.maxRecords) this.flush();
    else if (!this.timer) this.timer = setTimeout(() => this.flush(), this.options.maxWaitMs);
  }

  /** True when producers should wait: the queue says so, or enqueues are failing or piling up. */
  saturated(): boolean {
    return this.failing > 0 || this.inFlight.size >= MAX_IN_FLIGHT || this.options.queue.saturated();
  }

  /** Sends what is pending now. */
  flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.records.length === 0) return;
    const batch: RecordBatch = { id: newBatchId(), records: this.records };
    this.records = [];
    const sending = this.send(batch).finally(() => this.inFlight.delete(sending));
    this.inFlight.add(sending);
  }

  /** Flushes and waits until every batch is queued (or given up after the close deadline). */
  async close(): Promise<void> {
    this.closing = true;
    this.closeDeadline = Date.now() + (this.options.closeDeadlineMs ?? 10_000);
    this.flush();
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  private async send(batch: RecordBatch): Promise<void> {
    let backoff = 100;
    let failed = false;
    for (;;) {
      try {
        await this.options.queue.enqueue(batch);
        if (failed) this.failing--;
        this.options.onQueued?.(batch);
        return;
      } catch (error) {
        if (!failed) {
          failed = true;
          this.failing++;
        }
        if (this.closing && Date.now() >= this.closeDeadline) {
          this.failing--;
          this.options.logger.error(
            { err: error, batch: batch.id, records: batch.records.length },
            'queue unavailable at shutdown: batch lost',
          );
          this.options.onLost?.(batch, error);
          return;
        }
        this.options.logger.warn(
          { err: error, batch: batch.id, retryInMs: backoff },
          'enqueue failed, retrying',
        );
        await new Promise((resolve) => setTimeout(resolve, backoff));
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
      }
    }
  }
}
