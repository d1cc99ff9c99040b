import type { FastifyInstance } from 'fastify';
import type { Config } from '../../core/config.js';
import { parseDuration } from '../../core/duration.js';
import type { Logger } from '../../core/logger.js';
import type { ChangeFeed, DeadLetterQueue, RecordQueue } from '../../core/ports.js';
import { BullDeadLetterQueue, BullRecordQueue } from '../../correlator/queue/bullmq.js';
import { InProcessQueue } from '../../correlator/queue/in-process.js';
import { startIngest } from '../../ingest/service.js';
import { startRetention } from '../../store/retention.js';
import { openApiStores, startApi } from '../api-runtime.js';
import { createWorkerPipeline, ensureDataDir, openChangeFeed, openStores, VERSION } from '../runtime.js';

/**
 * Waiting batches before the listeners back off (TCP stops reading, HTTP answers 429, UDP drops and counts),
 * unless `queue.max_pending_batches` says otherwise. Embedded mode holds them in this process's heap, so the
 * bound is memory: 50 batches of 500 records are 25,000 records, 7 MB of e2e's 200-byte lines and ~50 MB of
 * 2 KB JSON events, and 1.5 s of work at 17k events/s (4 s at 6k/s), enough to ride out the resume poll and a
 * collection or checkpoint stall; a longer burst waits in the senders (TCP, HTTP retries) either way. 200, as
 * in scale mode where they wait in Redis, held 27 MB live of e2e's lines at full rate (docs/benchmarks.md,
 * issue 6, "Embedded mode: serve's memory at full rate, bounded").
 */
export function maxPendingBatches(config: Pick<Config, 'mode' | 'queue'>): number {
  return config.queue.max_pending_batches ?? (config.mode === 'embedded' ? 50 : 200);
}

export interface RunningService {
  api: FastifyInstance;
  apiUrl: string;
  listeners: { id: string; transport: string; address: string; port: number }[];
  adminKeyFile?: string;
  /** Incident changes from the worker stages (this process when embedded, the workers via Redis in scale mode). */
  changeFeed: ChangeFeed;
  close(): Promise<void>;
}

/**
 * `siem-lite serve`: ingest listeners and the API. In embedded mode the worker stages run in this process
 * on the in-process queue; in scale mode batches go to BullMQ for `siem-lite worker` processes.
 */
export async function serve(config: Config, logger: Logger): Promise<RunningService> {
  const dataDir = ensureDataDir(config);
  const stores = await openStores(config, logger);
  // Retention runs in every serve process, in both modes: deleting past days is idempotent.
  const retention = startRetention(stores.events, {
    eventsDays: config.retention.events_days,
    checkEveryMs: parseDuration(config.retention.check_every)!,
    logger,
  });
  // Keys, audit, rules and incident reads: opened before the worker stages, which read the rules from it.
  const apiStores = openApiStores(config);
  await apiStores.init();

  const changeFeed = openChangeFeed(config, logger);
  let queue: RecordQueue;
  let deadLetters: DeadLetterQueue;
  let closeDeadLetters = async () => {};
  let pipeline: Awaited<ReturnType<typeof createWorkerPipeline>> | undefined;
  if (config.mode === 'embedded') {
    const inProcess = new InProcessQueue({
      maxPendingBatches: maxPendingBatches(config),
      concurrency: config.queue.worker_concurrency,
      // In the SQLite file, so a restart keeps them for inspection and replay.
      deadLetters: stores.queueDeadLetters,
      logger,
    });
    pipeline = await createWorkerPipeline(config, stores, logger, {
      changeFeed,
      ruleRepository: apiStores.rules,
      // Through the store's writer thread when it has one: the flush never waits for the file's write lock.
      sources: stores.sources ?? apiStores.sources,
    });
    await inProcess.start(pipeline.handler);
    queue = inProcess;
    deadLetters = inProcess;
  } else {
    const bullDeadLetters = new BullDeadLetterQueue({
      redisUrl: config.redis.url,
      prefix: config.redis.prefix,
    });
    deadLetters = bullDeadLetters;
    closeDeadLetters = () => bullDeadLetters.close();
    queue = new BullRecordQueue({
      redisUrl: config.redis.url,
      prefix: config.redis.prefix,
      maxPendingBatches: maxPendingBatches(config),
      logger,
    });
  }

  const ingest = await startIngest({ config, queue, logger });
  const started = await startApi(config, logger, {
    events: stores.events,
    incidents: stores.incidents,
    apiStores,
    queue,
    changes: changeFeed,
    deadLetters,
  });
  const { api, admin } = started;
  await api.listen({ host: config.api.host, port: config.api.port });
  const address = api.server.address();
  const port = typeof address === 'object' && address ? address.port : config.api.port;
  const apiUrl = `http://${config.api.host.includes(':') ? `[${config.api.host}]` : config.api.host}:${port}`;

  const lines = [
    `siem-lite ${VERSION} serving in ${config.mode} mode`,
    `  API        ${apiUrl}  (OpenAPI ${apiUrl}/openapi.json, docs ${apiUrl}/docs)`,
    ...ingest.addresses.map(
      (l) => `  ${l.transport.toUpperCase().padEnd(10)} ${l.address}:${l.port}  (${l.id})`,
    ),
    admin
      ? `  admin key  ${admin.key}\n             shown once; also written to ${admin.file} (mode 0600)`
      : `  admin key  created on first start, in ${dataDir}/admin.key`,
  ];
  process.stderr.write(`${lines.join('\n')}\n`);

  let closing: Promise<void> | undefined;
  return {
    api,
    apiUrl,
    listeners: ingest.addresses,
    ...(admin ? { adminKeyFile: admin.file } : {}),
    changeFeed,
    close() {
      // Order matters: stop accepting, flush the last batch, drain the queue, then close stores.
      closing ??= (async () => {
        await ingest.close();
        await queue.close();
        await closeDeadLetters();
        await pipeline?.close();
        await started.close();
        await changeFeed.close();
        await retention.stop();
        await stores.close();
      })();
      return closing;
    },
  };
}
