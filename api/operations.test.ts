/**
 * Operations against the real adapters: dead letters listed, replayed and discarded through the API (the
 * in-process queue, and BullMQ's failed set on the real Redis); `/readyz` failing on a batch that waits too
 * long and the queue gauges on `/metrics`; rate limits shared by two API processes through Redis; and the
 * first-start admin key created once when several processes start together on an empty store.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../core/logger.js';
import type { RecordBatch } from '../core/model.js';
import type { DeadLetterQueue, RecordQueue } from '../core/ports.js';
import { BullDeadLetterQueue, BullRecordConsumer, BullRecordQueue } from '../correlator/queue/bullmq.js';
import { InProcessQueue } from '../correlator/queue/in-process.js';
import { REDIS_URL, uniquePrefix } from '../test/support/services.js';
import { ApiKeyService, ensureAdminKey } from './keys.js';
import { RedisHuntJobStore } from './rules/hunts.js';
import { buildApiServer } from './server.js';
import { type Harness, openHarness } from './testing/harness.js';

const logger = createLogger({ level: 'silent' });

function batch(id: string): RecordBatch {
  return {
    id,
    records: [
      {
        text: `<38>sshd[1]: hello ${id}`,
        receivedAt: Date.now(),
        transport: 'tcp',
        peer: '10.20.0.5',
        listener: 't',
        seq: 1,
      },
    ],
  };
}

const waitFor = async <T>(probe: () => Promise<T | undefined>, ms = 20_000): Promise<T> => {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function redisCleanup(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL);
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
}

/** A queue whose handler fails until `healed`, so batches go to the dead letters, and replays succeed. */
async function failingQueue(mode: 'embedded' | 'scale') {
  let healed = false;
  const processed: string[] = [];
  const handler = async (b: RecordBatch) => {
    if (!healed) throw new Error(`cannot process ${b.id}`);
    processed.push(b.id);
  };
  if (mode === 'embedded') {
    const queue = new InProcessQueue({ maxPendingBatches: 10, concurrency: 1, attempts: 1, logger });
    await queue.start(handler);
    return {
      queue,
      deadLetters: queue as DeadLetterQueue,
      processed,
      heal: () => (healed = true),
      close: () => queue.close(),
    };
  }
  const prefix = uniquePrefix('api-dlq');
  const queue = new BullRecordQueue({
    redisUrl: REDIS_URL,
    prefix,
    maxPendingBatches: 100,
    logger,
    retry: { attempts: 1, backoffMs: 10 },
  });
  const consumer = new BullRecordConsumer({ redisUrl: REDIS_URL, prefix, concurrency: 1, logger });
  await consumer.start(handler);
  const deadLetters = new BullDeadLetterQueue({ redisUrl: REDIS_URL, prefix });
  return {
    queue,
    deadLetters: deadLetters as DeadLetterQueue,
    processed,
    heal: () => (healed = true),
    async close() {
      await consumer.close();
      await queue.close();
      await deadLetters.close();
      await redisCleanup(prefix);
    },
  };
}

describe.each(['embedded', 'scale'] as const)('dead letters through the API (%s)', (mode) => {
  it('lists, replays (processed again) and discards failed batches; admin only, audited', async () => {
    const q = await failingQueue(mode);
    cleanups.push(() => q.close());
    const h: Harness = await openHarness(mode, { deadLetters: q.deadLetters });
    cleanups.push(() => h.dispose());
    await q.queue.enqueue(batch('b-replay'));
    await q.queue.enqueue(batch('b-discard'));
    const listed = await waitFor(async () => {
      const body = (await h.call('GET', '/api/dead-letters', h.key.admin)).json();
      return body.total === 2 ? body : undefined;
    });
    expect(listed.items).toHaveLength(2);
    const byBatch = new Map<string, { id: string; records: number; error: string }>();
    const full = (await h.call('GET', '/api/dead-letters?full=true', h.key.admin)).json();
    for (const item of full.items) byBatch.set(item.batch.id, item);
    expect(byBatch.get('b-replay')).toMatchObject({
      records: 1,
      error: expect.stringContaining('cannot process'),
    });
    expect((await h.call('GET', '/api/dead-letters', h.key.analyst)).statusCode).toBe(403);

    q.heal();
    const replayId = byBatch.get('b-replay')!.id;
    expect((await h.call('POST', `/api/dead-letters/${replayId}/replay`, h.key.admin)).json()).toEqual({
      id: replayId,
      outcome: 'replayed',
    });
    await waitFor(async () => (q.processed.includes('b-replay') ? true : undefined));
    const discardId = byBatch.get('b-discard')!.id;
    expect((await h.call('DELETE', `/api/dead-letters/${discardId}`, h.key.admin)).json().outcome).toBe(
      'discarded',
    );
    expect((await h.call('DELETE', `/api/dead-letters/${discardId}`, h.key.admin)).statusCode).toBe(404);
    expect((await h.call('POST', `/api/dead-letters/${replayId}/replay`, h.key.admin)).statusCode).toBe(404);
    const remaining = (await h.call('GET', '/api/dead-letters', h.key.admin)).json();
    expect(remaining.total).toBe(0);
    expect(q.processed).not.toContain('b-discard');
    await h.refresh();
    const audit = await h.apiStores.audit.list({ targetType: 'dead_letter' });
    expect(audit.entries.map((entry) => entry.action).sort()).toEqual([
      'dead_letter.discard',
      'dead_letter.replay',
    ]);
  });
});

describe.each(['embedded', 'scale'] as const)('queue age (%s)', (mode) => {
  it('tells when the oldest batch still waiting for a worker was queued', async () => {
    let queue: RecordQueue;
    let close: () => Promise<void>;
    if (mode === 'embedded') {
      // No handler started: nothing takes the batches.
      const inProcess = new InProcessQueue({ maxPendingBatches: 10, concurrency: 1, logger });
      queue = inProcess;
      close = async () => {};
    } else {
      const prefix = uniquePrefix('api-ready');
      const bull = new BullRecordQueue({ redisUrl: REDIS_URL, prefix, maxPendingBatches: 100, logger });
      queue = bull;
      close = async () => {
        await bull.close();
        await redisCleanup(prefix);
      };
    }
    cleanups.push(close);
    expect(await queue.oldestWaitingAt!()).toBeNull();
    const before = Date.now();
    await queue.enqueue(batch('waiting-1'));
    await queue.enqueue(batch('waiting-2'));
    const oldest = await queue.oldestWaitingAt!();
    expect(oldest).toBeGreaterThanOrEqual(before - 5);
    expect(oldest).toBeLessThanOrEqual(Date.now());
    expect(await queue.depth()).toBe(2);
  });
});

describe('/readyz and /metrics through startApi (embedded)', () => {
  it('reports the stuck queue and the queue gauges, with the configured age and rate limit', async () => {
    const { startApi } = await import('../bin/api-runtime.js');
    const { loadConfig } = await import('../core/config.js');
    const { createSqliteStores } = await import('../store/sqlite/index.js');
    const dir = mkdtempSync(join(tmpdir(), 'siem-ready-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    const { config } = loadConfig({
      env: {
        SIEM_DATA_DIR: join(dir, 'data'),
        SIEM_API__READY_MAX_QUEUE_AGE: '200ms',
        SIEM_API__RATE_LIMIT_PER_MINUTE: '3',
      },
    });
    const stores = createSqliteStores({ path: join(dir, 'data', 'siem.sqlite') });
    await stores.events.init();
    await stores.incidents.init();
    cleanups.push(() => stores.close());
    const queue = new InProcessQueue({ maxPendingBatches: 10, concurrency: 1, logger });
    const started = await startApi(config, logger, {
      events: stores.events,
      incidents: stores.incidents,
      queue,
    });
    cleanups.push(() => started.close());
    const adminKey = readFileSync(join(dir, 'data', 'admin.key'), 'utf8').trim();
    expect((await started.api.inject({ url: '/readyz' })).statusCode).toBe(200);
    await queue.enqueue(batch('stuck'));
    await new Promise((resolve) => setTimeout(resolve, 300));
    const ready = await started.api.inject({ url: '/readyz' });
    expect(ready.statusCode).toBe(503);
    expect(ready.json().checks.find((check: { name: string }) => check.name === 'queue').error).toMatch(
      /oldest batch has waited/,
    );
    const metrics = await started.api.inject({
      url: '/metrics',
      headers: { authorization: `Bearer ${adminKey}` },
    });
    expect(metrics.body).toMatch(/^siem_queue_depth 1$/m);
    const age = Number(/^siem_queue_oldest_waiting_seconds ([\d.]+)$/m.exec(metrics.body)?.[1]);
    expect(age).toBeGreaterThan(0.2);
    // Three requests of this key a minute (the probes and /metrics are not limited).
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const response = await started.api.inject({
        url: '/api/incidents',
        headers: { authorization: `Bearer ${adminKey}` },
      });
      statuses.push(response.statusCode);
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
  });
});

describe('rate limits shared by API processes (scale, Redis)', () => {
  it('counts a key’s requests across two servers', async () => {
    const prefix = uniquePrefix('api-rate');
    const client = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    cleanups.push(async () => {
      client.disconnect();
      await redisCleanup(prefix);
    });
    const h = await openHarness('scale', { rateLimitPerMinute: 5, rateLimitRedis: { client, prefix } });
    cleanups.push(() => h.dispose());
    // A second process on the same stores and Redis.
    const second = await buildApiServer({
      events: h.events,
      incidents: h.incidents,
      incidentQueries: h.apiStores.incidentQueries,
      keys: h.keys,
      audit: h.apiStores.audit,
      logger,
      mode: 'scale',
      version: 'test',
      rateLimitPerMinute: 5,
      rateLimitRedis: { client, prefix },
    });
    cleanups.push(() => second.close());
    const get = (app: typeof second) =>
      app.inject({ url: '/api/incidents?limit=1', headers: { authorization: `Bearer ${h.key.analyst}` } });
    const statuses: number[] = [];
    for (const app of [h.app, second, h.app, second, h.app, second])
      statuses.push((await get(app)).statusCode);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    // Another key has its own budget.
    expect(
      (await second.inject({ url: '/api/incidents', headers: { authorization: `Bearer ${h.key.admin}` } }))
        .statusCode,
    ).toBe(200);
  });
});

describe.each(['embedded', 'scale'] as const)('first-start admin key (%s)', (mode) => {
  it('is created once when several API processes start together on an empty store', async () => {
    const h = await openHarness(mode);
    cleanups.push(() => h.dispose());
    // The harness made keys; start from a store without any admin key by revoking its own.
    const admins = (await h.keys.list()).filter((key) => key.role === 'admin');
    for (const admin of admins) await h.keys.revoke(admin.id);
    const dirs = Array.from({ length: 4 }, () => mkdtempSync(join(tmpdir(), 'siem-admin-')));
    cleanups.push(async () => {
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    });
    // Four "processes": their own key services (caches) over the same repository.
    const results = await Promise.all(
      dirs.map((dir) => ensureAdminKey(new ApiKeyService(h.apiStores.keys), dir)),
    );
    const created = results.filter((result) => result !== undefined);
    expect(created).toHaveLength(1);
    await h.refresh();
    const active = (await h.keys.list()).filter((key) => key.role === 'admin' && !key.revokedAt);
    expect(active).toHaveLength(1);
    expect((await h.keys.verify(created[0]!.key))?.role).toBe('admin');
    // A later start finds it.
    expect(await ensureAdminKey(new ApiKeyService(h.apiStores.keys), dirs[0]!)).toBeUndefined();
  });
});

describe('hunt jobs shared by API processes (scale, Redis)', () => {
  it('is started on one process and followed on another', async () => {
    const prefix = uniquePrefix('api-hunt');
    const client = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    cleanups.push(async () => {
      client.disconnect();
      await redisCleanup(prefix);
    });
    const huntJobs = new RedisHuntJobStore(client, prefix);
    const h = await openHarness('scale', { huntJobs });
    cleanups.push(() => h.dispose());
    const second = await buildApiServer({
      events: h.events,
      incidents: h.incidents,
      incidentQueries: h.apiStores.incidentQueries,
      keys: h.keys,
      audit: h.apiStores.audit,
      rules: h.apiStores.rules,
      huntJobs: new RedisHuntJobStore(client, prefix),
      logger,
      mode: 'scale',
      version: 'test',
    });
    cleanups.push(() => second.close());
    const started = await h.call(
      'POST',
      '/api/rules/8777fb77-a27d-45a0-9f0a-2a8dc9f15429/hunt',
      h.key.analyst,
      {},
    );
    expect(started.statusCode).toBe(202);
    const id = started.json().id as string;
    const read = async () =>
      (
        await second.inject({
          url: `/api/hunts/${id}`,
          headers: { authorization: `Bearer ${h.key.analyst}` },
        })
      ).json();
    const done = await waitFor(async () => {
      const job = await read();
      return job.state === 'running' ? undefined : job;
    });
    expect(done).toMatchObject({ id, state: 'done', progress: 1, matched: 0 });
    expect(await client.pttl(`${prefix}:hunt:${id}`)).toBeGreaterThan(3_000_000);
    const missing = await second.inject({
      url: '/api/hunts/00000000-0000-4000-8000-000000000000',
      headers: { authorization: `Bearer ${h.key.analyst}` },
    });
    expect(missing.statusCode).toBe(404);
  });
});
