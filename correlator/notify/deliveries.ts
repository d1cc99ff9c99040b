/**
 * Where notifications wait between the decision to send and a receiver's 2xx. The notify stage enqueues a
 * delivery before the batch is acknowledged, so what happens after is the queue's business:
 * - scale mode: a BullMQ queue in Redis. A worker killed mid-delivery, or a receiver down for an hour, loses
 *   nothing: any worker process picks the job up again and retries it with exponential backoff; a delivery
 *   that exhausts its attempts, or that the receiver refuses for good (4xx), stays in the queue's failed set,
 *   inspectable with any BullMQ tool.
 * - embedded mode: in memory, retried with the same backoff in the background (one process; what is in
 *   flight when it stops is lost, as the in-process queue's batches are: docs/architecture.md).
 * Every attempt of one delivery carries the same id (`X-Siem-Delivery`), so a receiver can drop duplicates
 * (a worker killed after the POST, before recording it, sends it again).
 */
import { Queue, UnrecoverableError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import type { Logger } from '../../core/logger.js';
import type { EmailMessage } from './email.js';

export type Delivery =
  | {
      kind: 'webhook';
      /** Stable across attempts and processes. */
      id: string;
      /** The route's position in `notifications.webhooks` (every worker reads the same configuration). */
      route: number;
      /** The route's URL when enqueued: a job whose route has since changed is not sent elsewhere. */
      url: string;
      payload: unknown;
      incidentId: string;
    }
  | { kind: 'email'; id: string; message: EmailMessage; incidentId: string };

/** Thrown by a delivery attempt that must not be retried (the receiver refused it for good). */
export class FinalDeliveryError extends Error {}

/** One attempt: resolves on success, throws to be retried, throws FinalDeliveryError to give up. */
export type DeliverOnce = (delivery: Delivery) => Promise<void>;

export interface RetryPolicy {
  attempts: number;
  /** The first wait; each next one doubles. */
  backoffMs: number;
  /** Per attempt (webhooks). */
  timeoutMs?: number;
}

export interface DeliveryQueue {
  /** Starts delivering what is (and will be) queued. */
  start(deliver: DeliverOnce): void;
  /** Durable once resolved (in Redis for the BullMQ queue). */
  enqueue(delivery: Delivery): Promise<void>;
  /** Resolves when this process has no delivery in progress (in memory: none pending at all). */
  drain(): Promise<void>;
  close(): Promise<void>;
}

function describe(delivery: Delivery): Record<string, unknown> {
  return delivery.kind === 'webhook'
    ? { delivery: delivery.id, incident: delivery.incidentId, url: delivery.url }
    : { delivery: delivery.id, incident: delivery.incidentId, to: delivery.message.to };
}

export class MemoryDeliveryQueue implements DeliveryQueue {
  readonly #inFlight = new Set<Promise<void>>();
  #deliver: DeliverOnce | undefined;
  #closed = false;

  constructor(
    private readonly retry: RetryPolicy,
    private readonly logger: Logger,
  ) {}

  start(deliver: DeliverOnce): void {
    this.#deliver = deliver;
  }

  async enqueue(delivery: Delivery): Promise<void> {
    const run = this.#run(delivery);
    this.#inFlight.add(run);
    void run.finally(() => this.#inFlight.delete(run));
  }

  async #run(delivery: Delivery): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        if (!this.#deliver) throw new Error('delivery queue not started');
        await this.#deliver(delivery);
        return;
      } catch (error) {
        const final = error instanceof FinalDeliveryError || attempt >= this.retry.attempts || this.#closed;
        if (final) {
          this.logger.warn(
            { ...describe(delivery), err: (error as Error).message, attempt },
            'notification gave up',
          );
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, this.retry.backoffMs * 2 ** (attempt - 1)));
      }
    }
  }

  async drain(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.drain();
  }
}

const NOTIFY_QUEUE = 'notify';

export interface RedisDeliveryQueueOptions {
  redisUrl: string;
  /** BullMQ key prefix (the deployment's `redis.prefix`). */
  prefix: string;
  retry: RetryPolicy;
  logger: Logger;
  /** Deliveries in progress at once in this process (each may wait on a slow receiver). */
  concurrency?: number;
}

export class RedisDeliveryQueue implements DeliveryQueue {
  readonly #connection: Redis;
  readonly #queue: Queue<Delivery>;
  #worker: Worker<Delivery> | undefined;
  #workerConnection: Redis | undefined;

  constructor(private readonly options: RedisDeliveryQueueOptions) {
    this.#connection = new Redis(options.redisUrl, { maxRetriesPerRequest: null });
    this.#queue = new Queue<Delivery>(NOTIFY_QUEUE, {
      connection: this.#connection,
      prefix: options.prefix,
      defaultJobOptions: {
        attempts: options.retry.attempts,
        backoff: { type: 'exponential', delay: options.retry.backoffMs },
        removeOnComplete: { age: 3_600, count: 10_000 },
        // Failed deliveries stay a week for an operator to see (and retry with any BullMQ tool).
        removeOnFail: { age: 7 * 86_400 },
      },
    });
  }

  start(deliver: DeliverOnce): void {
    this.#workerConnection = new Redis(this.options.redisUrl, { maxRetriesPerRequest: null });
    this.#worker = new Worker<Delivery>(
      NOTIFY_QUEUE,
      async (job) => {
        try {
          await deliver(job.data);
        } catch (error) {
          const last =
            error instanceof FinalDeliveryError || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
          if (last) {
            this.options.logger.warn(
              { ...describe(job.data), err: (error as Error).message, attempt: job.attemptsMade + 1 },
              'notification gave up (kept in the failed set)',
            );
          }
          if (error instanceof FinalDeliveryError) throw new UnrecoverableError(error.message);
          throw error;
        }
      },
      {
        connection: this.#workerConnection,
        prefix: this.options.prefix,
        concurrency: this.options.concurrency ?? 4,
      },
    );
    // Failures are reported above; without a listener BullMQ's worker would print them itself.
    this.#worker.on('error', (error) =>
      this.options.logger.warn({ err: error.message }, 'notify worker error'),
    );
  }

  async enqueue(delivery: Delivery): Promise<void> {
    // The delivery id as the job id: one delivery enqueued twice stays one job.
    await this.#queue.add(delivery.kind, delivery, { jobId: delivery.id });
  }

  async drain(): Promise<void> {
    // Deliveries wait in Redis: nothing to wait for here beyond the jobs this process is running, which
    // close() lets finish.
  }

  /** Lets the jobs in progress finish (a slow receiver's time-out bounds it); the rest stay queued. */
  async close(): Promise<void> {
    await this.#worker?.close();
    await this.#queue.close();
    this.#workerConnection?.disconnect();
    this.#connection.disconnect();
  }

  /** Jobs by state, for tests and operators. */
  async counts(): Promise<Record<string, number>> {
    return this.#queue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed');
  }
}
