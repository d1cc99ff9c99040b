/**
 * The API's part of the composition root: the API-owned stores for the configured mode (keys, audit,
 * rules, incident reads — SQLite beside the embedded store, or Elasticsearch indices with Redis change
 * notices), the first-start admin key, readiness checks and metrics, and the server itself.
 */
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { ApiKeyService, ensureAdminKey } from '../api/keys.js';
import type { ReadinessCheck } from '../api/routes/health.js';
import { MemoryHuntJobStore, RedisHuntJobStore } from '../api/rules/hunts.js';
import { buildApiServer } from '../api/server.js';
import type { AgencyDirectory } from '../core/agencies.js';
import type { Config } from '../core/config.js';
import { parseDuration } from '../core/duration.js';
import type { Logger } from '../core/logger.js';
import type { ChangeFeed, DeadLetterQueue, EventStore, IncidentStore, RecordQueue } from '../core/ports.js';
import { ingestMetricsRegistry } from '../ingest/accounting.js';
import { ingestHttpRoutes } from '../ingest/http/routes.js';
import { createElasticsearchApiStores } from '../store/elasticsearch/index.js';
import { type ApiStores, createSqliteApiStores } from '../store/sqlite/index.js';
import { ensureDataDir, loadAgencies, VERSION } from './runtime.js';

/** Opens the API-owned stores; `init` creates their tables/indices (the incident store must exist). */
export function openApiStores(config: Config): ApiStores {
  if (config.mode === 'scale') {
    return createElasticsearchApiStores({
      url: config.elasticsearch.url,
      indexPrefix: config.elasticsearch.index_prefix,
      requestTimeoutMs: parseDuration(config.elasticsearch.request_timeout)!,
      ...(config.elasticsearch.username !== undefined
        ? { username: config.elasticsearch.username, password: config.elasticsearch.password ?? '' }
        : {}),
      notifications: { redisUrl: config.redis.url, prefix: config.redis.prefix },
    });
  }
  return createSqliteApiStores({ path: join(ensureDataDir(config), 'siem.sqlite'), readThread: true });
}

export interface StartedApi {
  api: FastifyInstance;
  apiStores: ApiStores;
  /** Set on the very first start: the admin key, shown once. */
  admin?: { key: string; file: string };
  close(): Promise<void>;
}

function httpIngest(config: Config, queue: RecordQueue, agencies: AgencyDirectory, keys: ApiKeyService) {
  return (app: FastifyInstance) =>
    ingestHttpRoutes(app, {
      queue,
      agencies,
      verifyApiKey: (token) => keys.verify(token),
      batchMaxRecords: config.ingest.batch_max_records,
    });
}

/** Builds the API for this configuration (not listening yet). */
export async function startApi(
  config: Config,
  logger: Logger,
  input: {
    events: EventStore;
    incidents: IncidentStore;
    apiStores?: ApiStores;
    changes?: ChangeFeed;
    deadLetters?: DeadLetterQueue;
    queue?: RecordQueue;
    plugins?: ((app: FastifyInstance) => Promise<void>)[];
  },
): Promise<StartedApi> {
  const apiStores = input.apiStores ?? openApiStores(config);
  await apiStores.init();
  const keys = new ApiKeyService(apiStores.keys);
  const admin = await ensureAdminKey(keys, ensureDataDir(config));
  const readiness: ReadinessCheck[] = [
    { name: 'incident store', check: async () => void (await input.incidents.list({ limit: 1 })) },
    {
      name: 'event store',
      check: async () => void (await input.events.count({ time: { from: Date.now() } })),
    },
  ];
  let redis: Redis | undefined;
  if (config.mode === 'scale') {
    redis = new Redis(config.redis.url, {
      lazyConnect: true,
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
    });
    redis.on('error', () => {}); // reported by the readiness check
    const client = redis;
    readiness.push({
      name: 'redis',
      check: async () => {
        if (client.status === 'wait' || client.status === 'end') await client.connect();
        await client.ping();
      },
    });
  }
  // Rate-limit counters and hunt jobs shared by every API process (scale mode).
  let shared: Redis | undefined;
  if (config.mode === 'scale') {
    shared = new Redis(config.redis.url, { connectTimeout: 2000, maxRetriesPerRequest: 1 });
    shared.on('error', () => {}); // reported by the readiness check; rate limits fail open meanwhile
  }
  const agencies = loadAgencies(config);
  const processMetrics = new Registry();
  collectDefaultMetrics({ register: processMetrics, prefix: 'siem_api_' });
  if (input.queue) {
    const queue = input.queue;
    const maxAgeMs = parseDuration(config.api.ready_max_queue_age)!;
    readiness.push({
      name: 'queue',
      check: async () => {
        const depth = await queue.depth();
        if (queue.saturated()) throw new Error(`queue saturated (${depth} batches waiting)`);
        const oldest = (await queue.oldestWaitingAt?.()) ?? null;
        if (oldest !== null && Date.now() - oldest > maxAgeMs) {
          throw new Error(
            `the oldest batch has waited ${Math.round((Date.now() - oldest) / 1000)} s for a worker (limit ${maxAgeMs / 1000} s)`,
          );
        }
      },
    });
    new Gauge({
      name: 'siem_queue_depth',
      help: 'Record batches waiting or in flight between ingest and the workers',
      registers: [processMetrics],
      async collect() {
        this.set(await queue.depth().catch(() => Number.NaN));
      },
    });
    new Gauge({
      name: 'siem_queue_oldest_waiting_seconds',
      help: 'Age of the oldest batch still waiting for a worker (0 when none waits)',
      registers: [processMetrics],
      async collect() {
        const oldest = await (queue.oldestWaitingAt?.() ?? Promise.resolve(null)).catch(() => Number.NaN);
        this.set(oldest === null ? 0 : (Date.now() - oldest) / 1000);
      },
    });
  }
  const api = await buildApiServer({
    events: input.events,
    incidents: input.incidents,
    incidentQueries: apiStores.incidentQueries,
    keys,
    audit: apiStores.audit,
    rules: apiStores.rules,
    rulePacks: config.rules.packs,
    sources: apiStores.sources,
    ...(apiStores.tileReads ? { tileReads: apiStores.tileReads } : {}),
    huntJobs: shared ? new RedisHuntJobStore(shared, config.redis.prefix) : new MemoryHuntJobStore(),
    rateLimitPerMinute: config.api.rate_limit_per_minute,
    ...(shared ? { rateLimitRedis: { client: shared, prefix: config.redis.prefix } } : {}),
    agencies,
    ...(input.changes ? { changes: input.changes } : {}),
    ...(input.deadLetters ? { deadLetters: input.deadLetters } : {}),
    readiness,
    metrics: [ingestMetricsRegistry, processMetrics],
    logger,
    mode: config.mode,
    version: VERSION,
    plugins: [
      // HTTP ingest for agents and shippers shares the API's port and keys (ingest-role keys or agency tokens).
      ...(input.queue ? [httpIngest(config, input.queue, agencies, keys)] : []),
      ...(input.plugins ?? []),
    ],
  });
  let closing: Promise<void> | undefined;
  return {
    api,
    apiStores,
    ...(admin ? { admin } : {}),
    close() {
      closing ??= (async () => {
        await api.close();
        redis?.disconnect();
        shared?.disconnect();
        await apiStores.close();
      })();
      return closing;
    },
  };
}
