import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../core/logger.js';
import type { RecordBatch } from '../../core/model.js';
import { REDIS_URL, uniquePrefix } from '../../test/support/services.js';
import { BullRecordConsumer, BullRecordQueue } from './bullmq.js';

const logger = createLogger({ level: 'silent' });
const prefix = uniquePrefix('bullmq');

afterAll(async () => {
  const redis = new Redis(REDIS_URL);
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
});

const batch = (id: string): RecordBatch => ({
  id,
  records: [
    { text: `<13>line ${id}`, receivedAt: 1, transport: 'udp', peer: '10.0.0.1', listener: 'l', seq: 1 },
  ],
});

describe('BullMQ record queue (real Redis)', () => {
  it('carries batches from a producer to several consumers, each batch once', async () => {
    const queue = new BullRecordQueue({ redisUrl: REDIS_URL, prefix, maxPendingBatches: 1000, logger });
    const seen: string[] = [];
    const consumers = [1, 2].map(
      () => new BullRecordConsumer({ redisUrl: REDIS_URL, prefix, concurrency: 2, logger }),
    );
    for (const consumer of consumers) {
      await consumer.start(async (b) => {
        expect(b.records[0]!.text).toBe(`<13>line ${b.id}`);
        seen.push(b.id);
      });
    }
    const ids = Array.from({ length: 20 }, (_, i) => `batch-${i}`);
    for (const id of ids) await queue.enqueue(batch(id));
    const deadline = Date.now() + 10_000;
    while (seen.length < ids.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect([...seen].sort()).toEqual([...ids].sort());
    expect(await queue.depth()).toBe(0);
    await Promise.all(consumers.map((c) => c.close()));
    await queue.close();
  });

  it('does not queue a batch twice when the producer re-sends it', async () => {
    const queue = new BullRecordQueue({
      redisUrl: REDIS_URL,
      prefix: `${prefix}-dup`,
      maxPendingBatches: 1,
      logger,
    });
    await queue.enqueue(batch('same'));
    await queue.enqueue(batch('same'));
    expect(await queue.depth()).toBe(1);
    expect(queue.saturated()).toBe(true);
    await queue.close();
    const redis = new Redis(REDIS_URL);
    const keys = await redis.keys(`${prefix}-dup:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });
});
