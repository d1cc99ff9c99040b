import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../core/logger.js';
import type { RecordBatch } from '../../core/model.js';
import { StoreUnavailableError } from '../../store/errors.js';
import { REDIS_URL, uniquePrefix } from '../../test/support/services.js';
import { BullDeadLetterQueue, BullRecordConsumer, BullRecordQueue } from './bullmq.js';

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
  it('keeps a batch waiting while the store is unavailable, without spending its attempts', async () => {
    const waitPrefix = `${prefix}-unavailable`;
    const queue = new BullRecordQueue({
      redisUrl: REDIS_URL,
      prefix: waitPrefix,
      maxPendingBatches: 100,
      logger,
      retry: { attempts: 1, backoffMs: 10 },
    });
    const consumer = new BullRecordConsumer({
      redisUrl: REDIS_URL,
      prefix: waitPrefix,
      concurrency: 1,
      logger,
      unavailableBackoffMs: 10,
    });
    const deadLetters = new BullDeadLetterQueue({ redisUrl: REDIS_URL, prefix: waitPrefix });
    let tries = 0;
    const done: string[] = [];
    await consumer.start(async (b) => {
      tries++;
      // One attempt only, yet four outages in a row: none of them may dead-letter the batch.
      if (tries <= 4) throw new StoreUnavailableError('elasticsearch is down');
      done.push(b.id);
    });
    await queue.enqueue(batch('wait-1'));
    await expect.poll(() => done, { timeout: 20_000 }).toEqual(['wait-1']);
    expect(tries).toBe(5);
    expect((await deadLetters.list(10)).total).toBe(0);
    await consumer.close();
    await queue.close();
    await deadLetters.close();
  });

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

  it('keeps batches that failed every attempt as dead letters: listed, replayed, discarded', async () => {
    const dlqPrefix = `${prefix}-dlq`;
    const queue = new BullRecordQueue({
      redisUrl: REDIS_URL,
      prefix: dlqPrefix,
      maxPendingBatches: 100,
      logger,
      retry: { attempts: 2, backoffMs: 10 },
    });
    const consumer = new BullRecordConsumer({
      redisUrl: REDIS_URL,
      prefix: dlqPrefix,
      concurrency: 1,
      logger,
    });
    const deadLetters = new BullDeadLetterQueue({ redisUrl: REDIS_URL, prefix: dlqPrefix });
    let storeDown = true;
    const attempts: Record<string, number> = {};
    const done: string[] = [];
    await consumer.start(async (b) => {
      attempts[b.id] = (attempts[b.id] ?? 0) + 1;
      if (storeDown) throw new Error(`store unavailable for ${b.id}`);
      done.push(b.id);
    });
    await queue.enqueue(batch('dl-1'));
    await queue.enqueue(batch('dl-2'));
    const waitUntil = async (check: () => Promise<boolean> | boolean) => {
      const deadline = Date.now() + 10_000;
      while (!(await check()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    };
    await waitUntil(async () => (await deadLetters.list(10)).total === 2);
    const listed = await deadLetters.list(10);
    expect(listed.total).toBe(2);
    expect(listed.items.map((item) => [item.id, item.attempts, item.error]).sort()).toEqual([
      ['dl-1', 2, 'store unavailable for dl-1'],
      ['dl-2', 2, 'store unavailable for dl-2'],
    ]);
    expect(listed.items[0]!.batch.records[0]!.text).toMatch(/^<13>line dl-/);
    expect(attempts).toEqual({ 'dl-1': 2, 'dl-2': 2 });

    storeDown = false;
    expect(await deadLetters.replay('dl-1')).toBe(true);
    expect(await deadLetters.discard('dl-2')).toBe(true);
    await waitUntil(() => done.includes('dl-1'));
    expect(done).toEqual(['dl-1']);
    expect((await deadLetters.list(10)).total).toBe(0);
    expect(await deadLetters.replay('dl-2')).toBe(false);
    expect(await deadLetters.discard('no-such-batch')).toBe(false);
    await consumer.close();
    await deadLetters.close();
    await queue.close();
  });
});
