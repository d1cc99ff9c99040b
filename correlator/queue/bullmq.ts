import { DelayedError, type Job, Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
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

/** The queue that carries raw record batches from ingest processes to worker processes. */
export const RECORDS_QUEUE = 'records';

export interface BullQueueOptions {
  redisUrl: string;
  /** Key prefix in Redis (BullMQ `prefix`), so several deployments or test runs share one Redis. */
  prefix: string;
  logger: Logger;
}

/** Retry policy of every batch job: documented in docs/architecture.md. */
const JOB_OPTIONS = {
  attempts: 8,
  backoff: { type: 'exponential', delay: 1000 },
  // Completed jobs are not needed; failed ones are the dead-letter list, kept for inspection and replay.
  removeOnComplete: true,
  removeOnFail: false,
} as const;

function connect(url: string): Redis {
  // BullMQ requires maxRetriesPerRequest: null for blocking connections: a Redis outage makes work wait.
  return new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true, lazyConnect: false });
}

/** Producer side, used by `siem-lite serve` in scale mode. */
export class BullRecordQueue implements RecordQueue {
  private readonly connection: Redis;
  private readonly queue: Queue<RecordBatch>;
  private waiting = 0;
  private readonly poll: NodeJS.Timeout;

  constructor(
    private readonly options: BullQueueOptions & {
      maxPendingBatches: number;
      /** Overrides of the retry policy (tests): attempts and the first backoff delay. */
      retry?: { attempts: number; backoffMs: number };
    },
  ) {
    this.connection = connect(options.redisUrl);
    const retry = options.retry;
    this.queue = new Queue<RecordBatch>(RECORDS_QUEUE, {
      connection: this.connection,
      prefix: options.prefix,
      defaultJobOptions: retry
        ? {
            ...JOB_OPTIONS,
            attempts: retry.attempts,
            backoff: { type: 'exponential', delay: retry.backoffMs },
          }
        : JOB_OPTIONS,
    });
    // saturated() is called per read on hot sockets: answer from a cached depth refreshed in the background.
    this.poll = setInterval(() => void this.refreshDepth(), 250);
    this.poll.unref();
  }

  async enqueue(batch: RecordBatch): Promise<void> {
    // jobId = batch id: a producer retrying an add after a lost reply does not queue the batch twice.
    await this.queue.add('batch', batch, { jobId: batch.id });
    this.waiting++;
  }

  saturated(): boolean {
    return this.waiting >= this.options.maxPendingBatches;
  }

  async depth(): Promise<number> {
    await this.refreshDepth();
    return this.waiting;
  }

  /** When the oldest batch still waiting for a worker was queued (readiness, queue age metric). */
  async oldestWaitingAt(): Promise<number | null> {
    const [job] = await this.queue.getJobs(['waiting', 'prioritized'], 0, 0, true);
    return job?.timestamp ?? null;
  }

  async close(): Promise<void> {
    clearInterval(this.poll);
    await this.queue.close();
    this.connection.disconnect();
  }

  private async refreshDepth(): Promise<void> {
    try {
      const counts = await this.queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
      this.waiting = Object.values(counts).reduce((sum, n) => sum + n, 0);
    } catch (error) {
      this.options.logger.warn({ err: (error as Error).message }, 'cannot read queue depth');
    }
  }
}

/** Consumer side, used by `siem-lite worker`. Any number of workers may consume the same queue. */
export class BullRecordConsumer implements RecordConsumer {
  private worker?: Worker<RecordBatch>;
  private connection?: Redis;

  constructor(
    private readonly options: BullQueueOptions & {
      concurrency: number;
      /** Lock duration and stalled-check interval (config `queue.stall_timeout`), default 30 s. */
      stallTimeoutMs?: number;
      /** First wait of a batch that met an unavailable store (doubles per try, at most 30 s); default 1 s. */
      unavailableBackoffMs?: number;
    },
  ) {}

  /** Tries per batch that met an unavailable store (this worker's view; reset when the batch leaves). */
  private readonly unavailableTries = new Map<string, number>();

  async start(handler: BatchHandler): Promise<void> {
    this.connection = connect(this.options.redisUrl);
    const process = async (job: Job<RecordBatch>, token?: string) => {
      try {
        await handler(job.data);
        this.unavailableTries.delete(job.id ?? '');
      } catch (error) {
        if (!(error instanceof StoreUnavailableError) || token === undefined) throw error;
        // The store is down: the batch goes back to the queue (delayed) without spending an attempt, so an
        // outage of any length makes batches wait, never dead-letters them.
        const tries = (this.unavailableTries.get(job.id ?? '') ?? 0) + 1;
        if (this.unavailableTries.size > 10_000) this.unavailableTries.clear();
        this.unavailableTries.set(job.id ?? '', tries);
        const wait = Math.min(
          (this.options.unavailableBackoffMs ?? 1000) * 2 ** (tries - 1),
          MAX_UNAVAILABLE_DELAY_MS,
        );
        this.options.logger.warn(
          { batch: job.id, wait, err: error.message },
          'store unavailable, batch waits on the queue',
        );
        await job.moveToDelayed(Date.now() + wait, token);
        throw new DelayedError();
      }
    };
    this.worker = new Worker<RecordBatch>(RECORDS_QUEUE, process, {
      connection: this.connection,
      prefix: this.options.prefix,
      concurrency: this.options.concurrency,
      // A worker that dies mid-batch: the job is stalled and re-delivered to another worker; the stages are
      // idempotent (event ids, detection ids, applied batch ids), so re-delivery changes nothing.
      lockDuration: this.options.stallTimeoutMs ?? 30_000,
      stalledInterval: this.options.stallTimeoutMs ?? 30_000,
      maxStalledCount: 3,
    });
    this.worker.on('failed', (job, error) => {
      this.options.logger.warn(
        { batch: job?.id, attempt: job?.attemptsMade, err: error.message },
        job && job.attemptsMade >= (job.opts.attempts ?? 1)
          ? 'batch failed, dead-lettered'
          : 'batch failed, will retry',
      );
    });
    this.worker.on('error', (error) => this.options.logger.error({ err: error.message }, 'worker error'));
    await this.worker.waitUntilReady();
  }

  /** Waits for in-flight jobs to finish; waiting jobs stay in Redis for the next worker. */
  async close(): Promise<void> {
    await this.worker?.close();
    this.connection?.disconnect();
  }
}

/**
 * The dead-letter list in scale mode: BullMQ's failed set (batches that failed every attempt; jobs still
 * retrying are `delayed`, not failed). Replay re-queues the job with a fresh set of attempts; discard removes it.
 */
export class BullDeadLetterQueue implements DeadLetterQueue {
  private readonly connection: Redis;
  private readonly queue: Queue<RecordBatch>;

  constructor(options: Omit<BullQueueOptions, 'logger'>) {
    this.connection = connect(options.redisUrl);
    this.queue = new Queue<RecordBatch>(RECORDS_QUEUE, {
      connection: this.connection,
      prefix: options.prefix,
    });
  }

  async list(limit: number): Promise<{ total: number; items: DeadLetter[] }> {
    const total = await this.queue.getFailedCount();
    const jobs = limit > 0 ? await this.queue.getFailed(0, limit - 1) : [];
    const items = jobs
      .filter((job): job is Job<RecordBatch> & { id: string } => Boolean(job?.id))
      .map((job) => ({
        id: job.id,
        batch: job.data,
        error: job.failedReason ?? '',
        attempts: job.attemptsMade,
        failedAt: new Date(job.finishedOn ?? job.timestamp).toISOString(),
      }));
    return { total, items };
  }

  async replay(id: string): Promise<boolean> {
    const job = await this.queue.getJob(id);
    if (!job || !(await job.isFailed())) return false;
    await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
    return true;
  }

  async discard(id: string): Promise<boolean> {
    const job = await this.queue.getJob(id);
    if (!job || !(await job.isFailed())) return false;
    await job.remove();
    return true;
  }

  async close(): Promise<void> {
    await this.queue.close();
    this.connection.disconnect();
  }
}
