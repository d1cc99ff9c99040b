/**
 * The composition root: builds each stage's adapters for the configured mode. Scale mode uses
 * Elasticsearch and BullMQ on Redis; embedded mode uses SQLite and the in-process queue. Nothing else in the
 * code base knows which mode it runs in.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AgencyDirectory } from '../core/agencies.js';
import type { Config } from '../core/config.js';
import { parseDuration } from '../core/duration.js';
import type { Logger } from '../core/logger.js';
import type { BatchHandler, EventStore, IncidentStore } from '../core/ports.js';
import { IncidentWriter } from '../correlator/incidents.js';
import { createBatchProcessor } from '../correlator/pipeline.js';
import { createNormaliser } from '../ingest/normalise.js';
import { loadRuleSet, type RuleSet } from '../rules/index.js';
import { createElasticsearchStores } from '../store/elasticsearch/index.js';
import { createSqliteStores } from '../store/sqlite/index.js';

/** The package version, read from package.json (found from both bin/ in source and dist/bin/ when built). */
export const VERSION = readPackageVersion();

function readPackageVersion(): string {
  for (const relative of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(relative, import.meta.url), 'utf8')) as {
        name?: string;
        version: string;
      };
      if (pkg.name === 'siem-lite') return pkg.version;
    } catch {
      // not at this level
    }
  }
  return '0.0.0';
}

export interface Stores {
  events: EventStore;
  incidents: IncidentStore;
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
      : createSqliteStores({ path: join(ensureDataDir(config), 'siem.sqlite'), logger });
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

/** The worker's batch handler for this configuration (the same in both modes). */
export function createWorkerPipeline(config: Config, stores: Stores, logger: Logger): BatchHandler {
  const ruleSet = loadRules(config, logger);
  return createBatchProcessor({
    normalise: createNormaliser({
      agencies: loadAgencies(config),
      defaultTimezone: config.ingest.default_timezone,
    }),
    events: stores.events,
    ruleSet: () => ruleSet,
    incidents: new IncidentWriter(
      stores.incidents,
      { suppressionWindowMs: parseDuration(config.incidents.suppression_window)! },
      logger,
    ),
    detectOptions: { groupBy: config.incidents.group_by },
    logger,
  });
}
