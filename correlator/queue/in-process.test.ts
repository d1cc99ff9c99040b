import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../core/logger.js';
import type { RecordBatch } from '../../core/model.js';
import { StoreUnavailableError } from '../../store/errors.js';
import { createSqliteStores } from '../../store/sqlite/index.js';
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
    expect((await queue.list(10)).items.map((d) => [d.batch.id, d.attempts, d.error])).toEqual([
      ['bad', 3, 'boom bad'],
    ]);
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
    expect(await queue.list(10)).toEqual({ total: 0, items: [] });
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

  it('keeps only the newest dead letters past its bound', async () => {
    const queue = new InProcessQueue({
      maxPendingBatches: 10,
      concurrency: 1,
      attempts: 1,
      maxDeadLetters: 2,
      logger,
    });
    await queue.start(async (b) => {
      throw new Error(`down ${b.id}`);
    });
    for (const id of ['a', 'b', 'c']) await queue.enqueue(batch(id));
    await queue.idle();
    const listed = await queue.list(10);
    expect([listed.total, listed.items.map((item) => item.id)]).toEqual([2, ['c', 'b']]);
  });
});

describe('InProcessQueue with its dead letters in the SQLite file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'siem-dead-letters-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** The queue as embedded serve builds it: dead letters in the store's file. */
  function open(path: string, handler: (b: RecordBatch) => Promise<void>, maxDeadLetters?: number) {
    const stores = createSqliteStores({ path });
    const queue = new InProcessQueue({
      maxPendingBatches: 10,
      concurrency: 1,
      attempts: 2,
      backoffMs: 1,
      deadLetters: stores.queueDeadLetters,
      ...(maxDeadLetters ? { maxDeadLetters } : {}),
      logger,
    });
    return { stores, queue, started: queue.start(handler) };
  }

  it('keeps dead letters across a restart; replay runs the batch and removes it, discard removes it', async () => {
    const path = join(dir, 'restart.db');
    const failing = open(path, async (b) => {
      throw new Error(`down ${b.id}`);
    });
    await failing.started;
    const lost: RecordBatch = {
      id: 'lost',
      records: [
        {
          text: '<34>Oct 11 22:14:15 host su: failed',
          receivedAt: 1,
          seq: 1,
          transport: 'udp',
          peer: '10.0.0.1',
          listener: 'syslog-udp',
        },
      ],
    };
    await failing.queue.enqueue(lost);
    await failing.queue.enqueue(batch('noise'));
    await failing.queue.idle();
    await failing.queue.close();
    await failing.stores.close();

    const done: RecordBatch[] = [];
    const healed = open(path, async (b) => {
      done.push(b);
    });
    await healed.started;
    const listed = await healed.queue.list(10);
    expect(listed.total).toBe(2);
    expect(listed.items.map((item) => [item.id, item.error, item.attempts])).toEqual([
      ['noise', 'down noise', 2],
      ['lost', 'down lost', 2],
    ]);
    expect(await healed.queue.replay('lost')).toBe(true);
    await healed.queue.idle();
    expect(done).toEqual([lost]);
    expect(await healed.queue.replay('lost')).toBe(false);
    expect(await healed.queue.discard('noise')).toBe(true);
    expect(await healed.queue.discard('noise')).toBe(false);
    await healed.queue.close();
    await healed.stores.close();

    const reopened = createSqliteStores({ path });
    expect(reopened.queueDeadLetters.list(10)).toEqual({ total: 0, items: [] });
    await reopened.close();
  });

  it('keeps the newest dead letters in the file past its bound, one row per batch', async () => {
    const path = join(dir, 'bound.db');
    const { stores, queue, started } = open(
      path,
      async (b) => {
        throw new Error(`down ${b.id}`);
      },
      2,
    );
    await started;
    for (const id of ['a', 'b', 'c']) await queue.enqueue(batch(id));
    await queue.idle();
    // Replayed and failing again: dead-lettered anew, as the newest, still one row.
    expect(await queue.replay('b')).toBe(true);
    await queue.idle();
    const listed = await queue.list(10);
    expect([listed.total, listed.items.map((item) => item.id)]).toEqual([2, ['b', 'c']]);
    await queue.close();
    await stores.close();
  });
});
