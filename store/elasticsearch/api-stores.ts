/**
 * What the API keeps in Elasticsearch (keys, audit, rules, incident reads), on its own client. Index
 * names follow the store's prefix: `<prefix>-api-keys`, `<prefix>-audit`, `<prefix>-rules`, `<prefix>-sources`.
 */
import { Client } from '@elastic/elasticsearch';
import type {
  ApiKeyRepository,
  AuditLog,
  IncidentQueries,
  RuleRepository,
  SourceInventory,
} from '../../core/ports.js';
import { ElasticsearchApiKeyRepository } from './api-key-store.js';
import { ElasticsearchAuditLog } from './audit-store.js';
import { ElasticsearchIncidentQueries } from './incident-query-store.js';
import { indexNames } from './mappings.js';
import { ElasticsearchRuleRepository, type RuleNotifications } from './rule-store.js';
import { ElasticsearchSourceInventory } from './source-inventory.js';

export interface ElasticsearchApiStores {
  keys: ApiKeyRepository;
  audit: AuditLog;
  rules: RuleRepository;
  incidentQueries: IncidentQueries;
  sources: SourceInventory;
  /** Creates indices (the incidents index must exist: initialise the incident store first). */
  init(): Promise<void>;
  close(): Promise<void>;
}

export function createElasticsearchApiStores(options: {
  url: string;
  indexPrefix: string;
  requestTimeoutMs?: number;
  username?: string;
  password?: string;
  /** Rule change notices across processes (scale mode); without it they stay in this process. */
  notifications?: RuleNotifications;
}): ElasticsearchApiStores {
  const client = new Client({
    node: options.url,
    requestTimeout: options.requestTimeoutMs ?? 30_000,
    ...(options.username !== undefined
      ? { auth: { username: options.username, password: options.password ?? '' } }
      : {}),
  });
  const prefix = options.indexPrefix;
  const keys = new ElasticsearchApiKeyRepository(client, `${prefix}-api-keys`);
  const audit = new ElasticsearchAuditLog(client, `${prefix}-audit`);
  const rules = new ElasticsearchRuleRepository(client, `${prefix}-rules`, options.notifications);
  const incidentQueries = new ElasticsearchIncidentQueries(
    client,
    indexNames(prefix).incidents,
    indexNames(prefix).detections,
  );
  const sources = new ElasticsearchSourceInventory(client, `${prefix}-sources`);
  let closed: Promise<void> | undefined;
  return {
    keys,
    audit,
    rules,
    incidentQueries,
    sources,
    async init() {
      await keys.init();
      await audit.init();
      await rules.init();
      await incidentQueries.init();
      await sources.init();
    },
    close() {
      closed ??= (async () => {
        await rules.close();
        await client.close();
      })();
      return closed;
    },
  };
}
