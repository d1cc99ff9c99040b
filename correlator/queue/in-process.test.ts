import { describe, expect, it } from 'vitest';
import { createLogger } from '../../core/logger.js';
import type { RecordBatch } from '../../core/model.js';
import { StoreUnavailableError } from '../../store/errors.js';
import { InProcessQueue } from './in-process.js';

const logger = createLogger({ level: 'silent' });
const batch = (id: string): RecordBatch => ({ id, records: [] });

describe('InProcessQueue', () => {
  it('delivers every batch once, in order with concurrency 1', async () => {
    const queue = new InProcessQueue({ maxPendingBatches: 10, concurrency: 1, logger });
    const seen: string[] = [];
    await queue.start(async (b) => {
      seen.push(b.id);
    });
    for (const id of ['a', 'b', 'c']) await queue.enqueue(batch(id));
    await queue.idle();
    expect(seen).toEqual(['a', 'b', 'c']);
  });

  it('reports saturation while batches wait, so producers back off', async () => {
    const queue = new InProcessQueue({ maxPendingBatches: 2, concurrency: 1, logger });
    for (const id of ['a', 'b']) await queue.enqueue(batch(id));
    expect(queue.saturated()).toBe(true);
    expect(await queue.depth()).toBe(2);
    await queue.start(async () => {});
    await queue.idle();
    expect(queue.saturated()).toBe(false);
  });

  it('retries a failing batch with backoff, then dead-letters it after the attempts', async () => {
    const queue = new InProcessQueue({
      maxPendingBatches: 10,
      concurrency: 1,
      attempts: 3,
      backoffMs: 5,
      logger,
    });
    const attempts: Record<string, number> = {};
    await queue.start(async (b) => {
      attempts[b.id] = (attempts[b.id] ?? 0) + 1;
      if (b.id === 'bad' || attempts[b.id]! < 2) throw new Error(`boom ${b.id}`);
    });
    await queue.enqueue(batch('flaky'));
    await queue.enqueue(batch('bad'));
    await queue.idle();
    expect(attempts).toEqual({ flaky: 2, bad: 3 });
    expect(queue.deadLetters.map((d) => [d.batch.id, d.attempts, d.error])).toEqual([['bad', 3, 'boom bad']]);
  });

  it('keeps a batch waiting while the store is unavailable, without spending its attempts', async () => {
    const queue = new InProcessQueue({
      maxPendingBatches: 10,
      concurrency: 1,
      attempts: 1,
      backoffMs: 5,
      logger,
    });
    let tries = 0;
    const done: string[] = [];
    await queue.start(async (b) => {
      tries++;
      if (tries <= 4) throw new StoreUnavailableError('elasticsearch is down');
      done.push(b.id);
    });
    await queue.enqueue(batch('wait-1'));
    await queue.idle();
    expect(done).toEqual(['wait-1']);
    expect(tries).toBe(5);
    expect(queue.deadLetters).toEqual([]);
  });

  it('drains accepted batches on close and refuses new ones after', async () => {
    const queue = new InProcessQueue({ maxPendingBatches: 10, concurrency: 1, logger });
    const seen: string[] = [];
    await queue.start(async (b) => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      seen.push(b.id);
    });
    await queue.enqueue(batch('a'));
    await queue.enqueue(batch('b'));
    await queue.close();
    expect(seen).toEqual(['a', 'b']);
    await expect(queue.enqueue(batch('c'))).rejects.toThrow(/closed/);
  });

  it('lists, replays and discards its dead letters (the DeadLetterQueue port)', async () => {
    const queue = new InProcessQueue({ maxPendingBatches: 10, concurrency: 1, attempts: 1, logger });
    let failing = true;
    const done: string[] = [];
    await queue.start(async (b) => {
      if (failing) throw new Error(`down ${b.id}`);
      done.push(b.id);
    });
    await queue.enqueue(batch('x'));
    await queue.enqueue(batch('y'));
    await queue.idle();
    const listed = await queue.list(10);
    expect(listed.total).toBe(2);
    expect(listed.items.map((item) => [item.id, item.error])).toEqual([
      ['y', 'down y'],
      ['x', 'down x'],
    ]);
    failing = false;
    expect(await queue.replay('x')).toBe(true);
    expect(await queue.discard('y')).toBe(true);
    await queue.idle();
    expect(done).toEqual(['x']);
    expect(await queue.list(10)).toEqual({ total: 0, items: [] });
    expect(await queue.replay('y')).toBe(false);
  });
});
