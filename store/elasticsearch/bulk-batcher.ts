/**
 * A size- and time-bounded batcher in front of `_bulk`. Concurrent callers' items share requests (up to
 * `maxDocs` documents or `maxBytes` of NDJSON each); a partly filled request leaves at most `maxWaitMs`
 * after its first item arrived; at most `maxInFlight` requests run at once, and a caller waits while
 * `maxPendingBytes` are queued, so memory stays bounded. Each caller gets the outcomes of its own items.
 */
import type { BulkOutcome } from './bulk-writer.js';

export interface BatcherLimits {
  maxDocs: number;
  maxBytes: number;
  maxWaitMs: number;
  maxInFlight: number;
  maxPendingBytes: number;
}

export const DEFAULT_BATCHER_LIMITS: BatcherLimits = {
  maxDocs: 5_000,
  maxBytes: 8 * 1024 * 1024,
  maxWaitMs: 20,
  maxInFlight: 2,
  maxPendingBytes: 64 * 1024 * 1024,
};

interface Caller {
  outcomes: BulkOutcome[];
  remaining: number;
  failed: boolean;
  resolve(outcomes: BulkOutcome[]): void;
  reject(error: unknown): void;
}

interface Pending {
  lines: Buffer;
  caller: Caller;
  position: number;
}

/** Sends items (their `bulkLines`) in one `_bulk` request and answers their outcomes in order. */
export type BulkSender = (items: Buffer[]) => Promise<BulkOutcome[]>;

export class BulkBatcher {
  readonly #send: BulkSender;
  readonly #limits: BatcherLimits;
  #pending: Pending[] = [];
  #pendingBytes = 0;
  #inFlight = 0;
  #timer: NodeJS.Timeout | undefined;
  #spaceWaiters: (() => void)[] = [];

  constructor(send: BulkSender, limits: Partial<BatcherLimits> = {}) {
    this.#send = send;
    this.#limits = { ...DEFAULT_BATCHER_LIMITS, ...limits };
  }

  /** Items are their encoded `bulkLines`, so a request's size is known to the byte. */
  async submit(items: Buffer[]): Promise<BulkOutcome[]> {
    if (items.length === 0) return [];
    while (this.#pendingBytes >= this.#limits.maxPendingBytes) {
      await new Promise<void>((resolve) => this.#spaceWaiters.push(resolve));
    }
    return new Promise<BulkOutcome[]>((resolve, reject) => {
      const caller: Caller = {
        outcomes: new Array(items.length),
        remaining: items.length,
        failed: false,
        resolve,
        reject,
      };
      for (let position = 0; position < items.length; position++) {
        const lines = items[position]!;
        this.#pending.push({ lines, caller, position });
        this.#pendingBytes += lines.length;
      }
      this.#schedule();
    });
  }

  /** Sends whatever is queued now, without waiting for the timer. */
  flush(): void {
    this.#clearTimer();
    this.#drain(true);
  }

  #schedule(): void {
    if (this.#fullRequestQueued()) {
      this.#drain(false);
    }
    if (this.#pending.length > 0 && this.#timer === undefined) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.#drain(true);
      }, this.#limits.maxWaitMs);
    }
  }

  #fullRequestQueued(): boolean {
    return this.#pending.length >= this.#limits.maxDocs || this.#pendingBytes >= this.#limits.maxBytes;
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Starts requests while slots are free: full ones always, a partial one only when `partial`. */
  #drain(partial: boolean): void {
    while (this.#inFlight < this.#limits.maxInFlight && this.#pending.length > 0) {
      if (!partial && !this.#fullRequestQueued()) break;
      this.#start(this.#takeRequest());
    }
    if (this.#pending.length === 0) this.#clearTimer();
  }

  #takeRequest(): Pending[] {
    let bytes = 0;
    let count = 0;
    while (count < this.#pending.length && count < this.#limits.maxDocs) {
      const next = this.#pending[count]!;
      if (count > 0 && bytes + next.lines.length > this.#limits.maxBytes) break;
      bytes += next.lines.length;
      count++;
    }
    const request = this.#pending.splice(0, count);
    this.#pendingBytes -= bytes;
    const waiters = this.#spaceWaiters.splice(0);
    for (const wake of waiters) wake();
    return request;
  }

  #start(request: Pending[]): void {
    this.#inFlight++;
    this.#send(request.map((entry) => entry.lines))
      .then((outcomes) => {
        request.forEach((entry, i) => {
          const caller = entry.caller;
          caller.outcomes[entry.position] = outcomes[i]!;
          if (--caller.remaining === 0 && !caller.failed) caller.resolve(caller.outcomes);
        });
      })
      .catch((error: unknown) => {
        for (const entry of request) {
          if (!entry.caller.failed) {
            entry.caller.failed = true;
            entry.caller.reject(error);
          }
        }
      })
      .finally(() => {
        this.#inFlight--;
        // Queued items wait for a slot: the timer may have fired while all slots were busy.
        this.#drain(this.#timer === undefined);
        if (this.#pending.length > 0 && this.#timer === undefined) this.#schedule();
      });
  }
}
