import type { Config } from '../../core/config.js';
import { parseDuration } from '../../core/duration.js';
import type { Logger } from '../../core/logger.js';
import { BullRecordConsumer } from '../../correlator/queue/bullmq.js';
import { openApiStores } from '../api-runtime.js';
import { createWorkerPipeline, openChangeFeed, openStores } from '../runtime.js';

/** `siem-lite worker` (scale mode): consumes record batches from BullMQ; run as many as needed. */
export async function worker(config: Config, logger: Logger): Promise<{ close(): Promise<void> }> {
  if (config.mode !== 'scale') {
    throw new Error(
      'siem-lite worker runs in scale mode (mode: scale); in embedded mode `serve` runs the worker stages itself',
    );
  }
  const stores = await openStores(config, logger);
  const consumer = new BullRecordConsumer({
    redisUrl: config.redis.url,
    prefix: config.redis.prefix,
    concurrency: config.queue.worker_concurrency,
    stallTimeoutMs: parseDuration(config.queue.stall_timeout)!,
    logger,
  });
  const changeFeed = openChangeFeed(config, logger);
  // Rules and filters changed through the API (reloaded on change in every worker), and the source inventory.
  const apiStores = openApiStores(config);
  await apiStores.init();
  const pipeline = await createWorkerPipeline(config, stores, logger, {
    changeFeed,
    ruleRepository: apiStores.rules,
    sources: apiStores.sources,
  });
  await consumer.start(pipeline.handler);
  logger.info({ concurrency: config.queue.worker_concurrency }, 'worker consuming record batches');
  let closing: Promise<void> | undefined;
  return {
    close() {
      closing ??= (async () => {
        await consumer.close();
        await pipeline.close();
        await apiStores.close();
        await changeFeed.close();
        await stores.close();
      })();
      return closing;
    },
  };
}
