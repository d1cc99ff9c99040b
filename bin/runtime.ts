/**
 * The composition root: builds each stage's adapters for the configured mode. Scale mode uses
 * Elasticsearch and BullMQ on Redis; embedded mode uses SQLite and the in-process queue. Nothing else in the
 * code base knows which mode it runs in.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { AgencyDirectory } from '../core/agencies.js';
import type { Config } from '../core/config.js';
import { parseDuration } from '../core/duration.js';
import type { Logger } from '../core/logger.js';
import { PACKAGE_VERSION } from '../core/package-root.js';
import type {
  BatchHandler,
  ChangeFeed,
  EventStore,
  IncidentChange,
  IncidentStore,
  RuleRepository,
  SourceInventory,
} from '../core/ports.js';
import { MemoryChangeFeed, RedisChangeFeed } from '../correlator/change-feed.js';
import { Correlator } from '../correlator/correlation/correlate.js';
import { MemoryStateStore } from '../correlator/correlation/memory-state-store.js';
import { RedisStateStore } from '../correlator/correlation/redis-state-store.js';
import { Escalation, MemoryEntityRegistry, RedisEntityRegistry } from '../correlator/escalation.js';
import { IncidentWriter } from '../correlator/incidents.js';
import { LiveRuleSet } from '../correlator/live-rules.js';
import { RedisDeliveryQueue } from '../correlator/notify/deliveries.js';
import { EmailSender } from '../correlator/notify/email.js';
import { Notifier } from '../correlator/notify/notifier.js';
import { MemoryThrottle, RedisThrottle } from '../correlator/notify/throttle.js';
import { createBatchProcessor } from '../correlator/pipeline.js';
import type { DeadLetterStore } from '../correlator/queue/in-process.js';
import { SourceTracker } from '../correlator/source-tracker.js';
import { createNormaliser } from '../ingest/normalise.js';
import { loadRuleSet, type RuleSet } from '../rules/index.js';
import { createElasticsearchStores } from '../store/elasticsearch/index.js';
import { createSqliteStores } from '../store/sqlite/index.js';

/** The package version, from package.json. */
export const VERSION = PACKAGE_VERSION;

export interface Stores {
  events: EventStore;
  incidents: IncidentStore;
  /** Embedded mode: the in-process queue's dead letters, in the SQLite file (scale mode: BullMQ keeps them). */
  queueDeadLetters?: DeadLetterStore;
  /** Embedded mode: the source inventory written through the store's writer thread (store/sqlite/index.ts). */
  sources?: SourceInventory;
  close(): Promise<void>;
}

export async function openStores(config: Config, logger: Logger): Promise<Stores> {
  const stores =
    config.mode === 'scale'
      ? createElasticsearchStores({
          url: config.elasticsearch.url,
          indexPrefix: config.elasticsearch.index_prefix,
          requestTimeoutMs: parseDuration(config.elasticsearch.request_timeout)!,
          logger,
        })
      : // Writes on a thread of their own: SQLite's work runs beside the main thread's (docs/benchmarks.md).
        createSqliteStores({ path: join(ensureDataDir(config), 'siem.sqlite'), logger, writerThread: true });
  await stores.events.init();
  await stores.incidents.init();
  return stores;
}

export function ensureDataDir(config: Config): string {
  mkdirSync(config.data_dir, { recursive: true });
  return config.data_dir;
}

export function loadAgencies(config: Config): AgencyDirectory {
  return AgencyDirectory.fromFile(config.agencies_file);
}

/** Loads the rule packs; a rule that fails is reported and skipped, never fatal for the rest. */
export function loadRules(config: Config, logger: Logger): RuleSet {
  const { ruleSet, problems } = loadRuleSet({ packs: config.rules.packs });
  for (const problem of problems) {
    logger.warn(
      { file: problem.file, line: problem.line, rule: problem.ruleId },
      `rule skipped: ${problem.message}`,
    );
  }
  logger.info(
    { rules: ruleSet.rules.length, skipped: problems.length, packs: config.rules.packs },
    'rules loaded',
  );
  return ruleSet;
}

/** Incident changes for every process: Redis pub/sub in scale mode, in memory when embedded. */
export function openChangeFeed(config: Config, logger: Logger): ChangeFeed {
  return config.mode === 'scale'
    ? new RedisChangeFeed({ redisUrl: config.redis.url, prefix: config.redis.prefix, logger })
    : new MemoryChangeFeed();
}

export interface WorkerPipeline {
  handler: BatchHandler;
  rules: LiveRuleSet;
  /** Call after the consumer has stopped: releases correlation state connections. */
  close(): Promise<void>;
}

/**
 * The worker's batch handler for this configuration (the same stages in both modes): rules from the packs
 * and the repository (reloaded on change), correlation windows in Redis or memory, incidents, and every
 * incident change published on the change feed.
 */
export async function createWorkerPipeline(
  config: Config,
  stores: Stores,
  logger: Logger,
  extras: { changeFeed?: ChangeFeed; ruleRepository?: RuleRepository; sources?: SourceInventory } = {},
): Promise<WorkerPipeline> {
  const rules = new LiveRuleSet({
    packs: config.rules.packs,
    ...(extras.ruleRepository ? { repository: extras.ruleRepository } : {}),
    logger,
  });
  await rules.start();
  const suppressionWindowMs = parseDuration(config.incidents.suppression_window)!;
  const scale = config.mode === 'scale';
  const stateStore = scale
    ? new RedisStateStore({ redisUrl: config.redis.url, prefix: config.redis.prefix })
    : new MemoryStateStore();
  const entities = scale
    ? new RedisEntityRegistry({ redisUrl: config.redis.url, prefix: config.redis.prefix })
    : new MemoryEntityRegistry();
  const correlator = new Correlator(stateStore, {
    latenessMs: parseDuration(config.correlation.allowed_lateness)!,
    maxHitsPerGroup: config.correlation.max_hits_per_group,
    logger,
  });
  const incidents = new IncidentWriter(
    stores.incidents,
    { suppressionWindowMs, onRecurrence: config.incidents.on_recurrence },
    logger,
  ).withEscalation(new Escalation(stores.incidents, entities, { windowMs: suppressionWindowMs, logger }));
  const notifier = createNotifier(config, logger);
  const feed = extras.changeFeed;
  const normaliser = createNormaliser({
    agencies: loadAgencies(config),
    defaultTimezone: config.ingest.default_timezone,
  });
  // The source inventory (API /api/sources): counted per batch in memory, written every few seconds.
  const sources = extras.sources ? new SourceTracker(extras.sources, logger) : undefined;
  const handler = createBatchProcessor({
    normalise: sources
      ? (records) => {
          const events = normaliser(records);
          sources.observe(records, events);
          return events;
        }
      : normaliser,
    events: stores.events,
    ruleSet: () => rules.get(),
    correlator,
    incidents,
    notify: async (changes) => {
      if (feed)
        for (const change of await withVersions(stores.incidents, changes)) await feed.publish(change);
      await notifier?.notify(changes);
    },
    detectOptions: { groupBy: config.incidents.group_by },
    logger,
  });
  return {
    handler,
    rules,
    async close() {
      await notifier?.drain();
      await notifier?.close();
      await rules.close();
      await stateStore.close();
      await entities.close();
    },
  };
}

/**
 * The pipeline's changes with the version each incident is stored at, for the live stream (a console
 * PATCHes with it). A batch write gives its changes their versions already; the others (a key retried on
 * its own after a conflict, an escalation) are read back, and given the version only where the stored
 * incident is still the one in the change: if it moved on since (an analyst, the next batch), that write's
 * own notice carries the newer state and its version.
 */
export async function withVersions(
  incidents: IncidentStore,
  changes: IncidentChange[],
): Promise<IncidentChange[]> {
  const unversioned = changes.filter((change) => change.version === undefined);
  if (unversioned.length === 0) return changes;
  const ids = unversioned.map((change) => change.incident.id);
  const stored = incidents.getMany
    ? await incidents.getMany(ids)
    : await Promise.all(ids.map((id) => incidents.get(id)));
  const versions = new Map<IncidentChange, string>();
  unversioned.forEach((change, i) => {
    const found = stored[i];
    if (found && JSON.stringify(found.value) === JSON.stringify(change.incident))
      versions.set(change, found.version);
  });
  return changes.map((change) => {
    const version = versions.get(change);
    return version === undefined ? change : { ...change, version };
  });
}

/** Webhooks and e-mail as configured (`notifications`); undefined when neither is. */
function createNotifier(config: Config, logger: Logger): Notifier | undefined {
  const settings = config.notifications;
  if (settings.webhooks.length === 0 && !settings.email.enabled) return undefined;
  const throttle =
    config.mode === 'scale'
      ? new RedisThrottle({ redisUrl: config.redis.url, prefix: config.redis.prefix })
      : new MemoryThrottle();
  const email = settings.email;
  const sender = email.enabled
    ? new EmailSender({
        host: email.host,
        port: email.port,
        security: email.security,
        ...(email.username ? { username: email.username } : {}),
        ...(email.password ? { password: email.password } : {}),
        ...(email.ca_file ? { caFile: email.ca_file } : {}),
        from: email.from,
      })
    : undefined;
  const agencies = loadAgencies(config);
  const retry = { attempts: settings.retry_attempts, backoffMs: parseDuration(settings.retry_backoff)! };
  const notifier = new Notifier({
    webhooks: settings.webhooks.map((hook) => ({
      url: hook.url,
      ...(hook.secret ? { secret: hook.secret } : {}),
      ...(hook.agencies ? { agencies: hook.agencies } : {}),
      minSeverity: hook.min_severity,
    })),
    ...(sender
      ? {
          email: {
            send: (message) => sender.send(message),
            minSeverity: email.min_severity,
            recipientOf: (agency) => agencies.get(agency)?.oncall_email ?? email.fallback_to,
          },
        }
      : {}),
    throttle,
    throttleMs: parseDuration(settings.throttle)!,
    retry,
    // Scale mode: deliveries wait in Redis, so a killed worker or a receiver that is down loses nothing.
    ...(config.mode === 'scale'
      ? {
          deliveries: new RedisDeliveryQueue({
            redisUrl: config.redis.url,
            prefix: config.redis.prefix,
            retry,
            logger,
          }),
        }
      : {}),
    logger,
  });
  const closeDeliveries = notifier.close.bind(notifier);
  return Object.assign(notifier, {
    async close() {
      await closeDeliveries();
      sender?.close();
      await throttle.close();
    },
  });
}
