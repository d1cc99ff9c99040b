/**
 * The scale-mode store: events, incidents and detections in Elasticsearch 8, sharing one client.
 */
import { Client } from '@elastic/elasticsearch';
import type { Logger } from '../../core/logger.js';
import type { EventStore, IncidentStore } from '../../core/ports.js';
import type { BatcherLimits } from './bulk-batcher.js';
import type { RetryPolicy } from './bulk-writer.js';
import { ElasticsearchEventStore } from './event-store.js';
import { ElasticsearchIncidentStore } from './incident-store.js';
import { indexNames } from './mappings.js';

export interface ElasticsearchStoreOptions {
  url: string;
  /** Prefix of every index and template this store owns, e.g. `siem`. */
  indexPrefix: string;
  requestTimeoutMs?: number;
  logger?: Logger;
  username?: string;
  password?: string;
  /** Backoff for 429/5xx answers (tests shorten it). */
  retry?: RetryPolicy;
  /** Bulk request bounds (documents, bytes, wait, concurrency). */
  batcher?: Partial<BatcherLimits>;
}

export interface ElasticsearchStores {
  events: EventStore;
  incidents: IncidentStore;
  client: Client;
  close(): Promise<void>;
}

export { ElasticsearchEventStore, ElasticsearchIncidentStore, indexNames };

export function createElasticsearchStores(options: ElasticsearchStoreOptions): ElasticsearchStores {
  const client = new Client({
    node: options.url,
    requestTimeout: options.requestTimeoutMs ?? 30_000,
    ...(options.username !== undefined
      ? { auth: { username: options.username, password: options.password ?? '' } }
      : {}),
  });
  const names = indexNames(options.indexPrefix);
  const events = new ElasticsearchEventStore({
    client,
    prefix: options.indexPrefix,
    names,
    logger: options.logger,
    retry: options.retry,
    batcher: options.batcher,
  });
  const incidents = new ElasticsearchIncidentStore({
    client,
    names,
    logger: options.logger,
    retry: options.retry,
  });
  let closed: Promise<void> | undefined;
  const close = () => {
    closed ??= client.close();
    return closed;
  };
  return { events, incidents, client, close };
}
export { createElasticsearchApiStores, type ElasticsearchApiStores } from './api-stores.js';
