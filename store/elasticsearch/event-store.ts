/**
 * Events in Elasticsearch: daily indices `<prefix>-events-YYYY.MM.DD` (by event time, UTC) created from a
 * composable template and read through the alias `<prefix>-events`. Writes are `_bulk` `create` with
 * `event.id` as `_id`: a re-delivered event is answered 409 and counted as a duplicate.
 */
import { type Client, errors, type estypes } from '@elastic/elasticsearch';
import { digest } from '../../core/identity.js';
import type { Logger } from '../../core/logger.js';
import type { SecurityEvent } from '../../core/model.js';
import type {
  EventPage,
  EventSearch,
  EventStore,
  Histogram,
  HistogramOptions,
  IndexResult,
  LastSeen,
  RetentionResult,
  TopValues,
} from '../../core/ports.js';
import { encodeCursor } from '../cursor.js';
import { StoreQueryError } from '../errors.js';
import { prepareEvent, retentionCutoffDay } from '../event-document.js';
import { planSearch, type SearchPlan } from '../search-plan.js';
import * as aggregations from './aggregations.js';
import { type BatcherLimits, BulkBatcher } from './bulk-batcher.js';
import { type BulkItem, bulkLines, bulkWrite, type RetryPolicy } from './bulk-writer.js';
import {
  dailyIndex,
  deadletterMappings,
  eventsTemplate,
  type IndexNames,
  smallIndexSettings,
} from './mappings.js';
import { toElasticsearchQuery } from './query-dsl.js';

/** How long a point in time stays open between two pages. */
const PIT_KEEP_ALIVE = '2m';

function isExpiredPit(error: unknown): boolean {
  if (!(error instanceof errors.ResponseError)) return false;
  const type = (error.body as { error?: { type?: string; root_cause?: { type?: string }[] } } | undefined)
    ?.error;
  return (
    error.meta.statusCode === 404 ||
    type?.type === 'search_context_missing_exception' ||
    type?.root_cause?.some((cause) => cause.type === 'search_context_missing_exception') === true
  );
}

export interface ElasticsearchEventStoreOptions {
  client: Client;
  prefix: string;
  names: IndexNames;
  logger?: Logger;
  retry?: RetryPolicy;
  batcher?: Partial<BatcherLimits>;
}

export interface DeadLetter {
  event: unknown;
  reason: string;
  status?: number;
  errorType?: string;
  index?: string;
}

export class ElasticsearchEventStore implements EventStore {
  readonly #client: Client;
  readonly #prefix: string;
  readonly #names: IndexNames;
  readonly #logger: Logger | undefined;
  readonly #retry: RetryPolicy | undefined;
  readonly #batcher: BulkBatcher;

  constructor(options: ElasticsearchEventStoreOptions) {
    this.#client = options.client;
    this.#prefix = options.prefix;
    this.#names = options.names;
    this.#logger = options.logger;
    this.#retry = options.retry;
    this.#batcher = new BulkBatcher(
      (items) => bulkWrite(this.#client, items, { retry: this.#retry, logger: this.#logger }),
      options.batcher,
    );
  }

  async init(): Promise<void> {
    await this.#client.indices.putIndexTemplate(eventsTemplate(this.#names));
    await createIndexIfMissing(this.#client, this.#names.deadletter, deadletterMappings);
  }

  async index(events: SecurityEvent[]): Promise<IndexResult> {
    const result: IndexResult = { indexed: 0, duplicates: 0, deadLettered: 0 };
    const lines: Buffer[] = [];
    const indices: string[] = [];
    const sources: SecurityEvent[] = [];
    const rejected: DeadLetter[] = [];
    for (const event of events) {
      const prepared = prepareEvent(event);
      if (!prepared.ok) {
        rejected.push({ event, reason: prepared.reason, errorType: 'shape_check' });
        continue;
      }
      const { json, id, sortTime } = prepared.event;
      const index = dailyIndex(this.#prefix, sortTime);
      // The shape check's JSON is the document as sent: serialised once, encoded once.
      lines.push(bulkLines({ action: 'create', index, id, document: json }));
      indices.push(index);
      sources.push(event);
    }
    if (lines.length > 0) {
      const outcomes = await this.#batcher.submit(lines);
      for (let i = 0; i < outcomes.length; i++) {
        const outcome = outcomes[i]!;
        if (outcome.status === 200 || outcome.status === 201) result.indexed++;
        else if (outcome.status === 409) result.duplicates++;
        else {
          rejected.push({
            event: sources[i],
            reason: outcome.errorReason ?? `status ${outcome.status}`,
            status: outcome.status,
            errorType: outcome.errorType,
            index: indices[i],
          });
        }
      }
    }
    if (rejected.length > 0) {
      await this.#deadLetter(rejected);
      result.deadLettered = rejected.length;
    }
    return result;
  }

  /** Rejected events with their reasons; written with `index` so a re-delivered reject stays one entry. */
  async #deadLetter(rejected: DeadLetter[]): Promise<void> {
    const now = new Date().toISOString();
    const items: BulkItem[] = rejected.map((entry) => {
      const event = entry.event as { event?: { id?: unknown }; agency?: { id?: unknown } } | null;
      const eventId = typeof event?.event?.id === 'string' ? event.event.id : undefined;
      const original = safeJson(entry.event);
      return {
        action: 'index',
        index: this.#names.deadletter,
        id: eventId ?? digest('deadletter', original),
        document: {
          '@timestamp': now,
          event: { id: eventId },
          agency: { id: typeof event?.agency?.id === 'string' ? event.agency.id : undefined },
          index: entry.index,
          status: entry.status,
          reason: entry.reason,
          error: { type: entry.errorType },
          original,
        },
      };
    });
    const outcomes = await bulkWrite(this.#client, items.map(bulkLines), {
      retry: this.#retry,
      logger: this.#logger,
    });
    const failed = outcomes.filter((outcome) => outcome.status >= 300);
    if (failed.length > 0) {
      throw new Error(`dead-letter index refused ${failed.length} entries: ${failed[0]!.errorReason}`);
    }
    this.#logger?.warn({ count: rejected.length, reason: rejected[0]!.reason }, 'events dead-lettered');
  }

  /**
   * Newest first, keyset-paged with `search_after` on (@timestamp, event.id). The first page is a plain
   * search (most searches never page); when there is a next page, a point in time is opened and the
   * following pages read that snapshot. An expired point in time falls back to a plain search from the
   * same keyset position, so a slow reader still gets no gaps and no repeats.
   */
  async search(search: EventSearch): Promise<EventPage> {
    const plan = planSearch(search);
    if (plan.condition.kind === 'none') return { events: [], total: 0 };
    const sort = [
      { '@timestamp': { order: 'desc', format: 'strict_date_optional_time_nanos' } },
      { 'event.id': { order: 'desc' } },
    ] as estypes.Sort;
    const request = {
      query: toQuery(plan),
      size: plan.limit,
      sort,
      track_total_hits: true,
    };
    const after = plan.after;
    let response: estypes.SearchResponse<SecurityEvent> | undefined;
    if (after?.pit !== undefined) {
      try {
        response = await this.#client.search<SecurityEvent>({
          ...request,
          pit: { id: after.pit, keep_alive: PIT_KEEP_ALIVE },
          search_after: after.shardDoc === undefined ? after.sort : [...after.sort, after.shardDoc],
        });
      } catch (error) {
        if (!isExpiredPit(error)) throw this.#queryError(error);
        this.#logger?.info('point in time expired, paging on without it');
      }
    }
    response ??= await this.#call(() =>
      this.#client.search<SecurityEvent>({
        ...request,
        index: this.#names.events,
        ignore_unavailable: true,
        allow_no_indices: true,
        ...(after ? { search_after: after.sort } : {}),
      }),
    );
    const hits = response.hits.hits;
    const events = hits.map((hit) => hit._source!);
    const total =
      typeof response.hits.total === 'number' ? response.hits.total : (response.hits.total?.value ?? 0);
    const last = hits[hits.length - 1];
    if (hits.length < plan.limit || last?.sort === undefined) return { events, total };
    const pit = response.pit_id ?? (await this.#openPit());
    const shardDoc = response.pit_id !== undefined && last.sort.length > 2 ? Number(last.sort[2]) : undefined;
    const next = encodeCursor({
      sort: [String(last.sort[0]), String(last.sort[1])],
      ...(pit !== undefined ? { pit } : {}),
      ...(shardDoc !== undefined ? { shardDoc } : {}),
    });
    return { events, total, next };
  }

  async #openPit(): Promise<string | undefined> {
    try {
      const response = await this.#client.openPointInTime({
        index: this.#names.events,
        keep_alive: PIT_KEEP_ALIVE,
        ignore_unavailable: true,
      });
      return response.id;
    } catch (error) {
      // Paging still works without a snapshot; log and carry on.
      this.#logger?.warn({ err: (error as Error).message }, 'could not open a point in time');
      return undefined;
    }
  }

  async count(search: EventSearch): Promise<number> {
    const plan = planSearch({ ...search, after: undefined, limit: undefined });
    if (plan.condition.kind === 'none') return 0;
    const response = await this.#call(() =>
      this.#client.count({
        index: this.#names.events,
        ignore_unavailable: true,
        allow_no_indices: true,
        query: toQuery(plan),
      }),
    );
    return response.count;
  }

  async refresh(): Promise<void> {
    await this.#client.indices.refresh({
      index: [this.#names.eventsPattern, this.#names.deadletter],
      ignore_unavailable: true,
      allow_no_indices: true,
    });
  }

  async close(): Promise<void> {}

  async deleteBefore(cutoff: string | number): Promise<RetentionResult> {
    const cutoffDay = retentionCutoffDay(cutoff);
    const indices = (await this.#client.cat.indices({
      index: this.#names.eventsPattern,
      format: 'json',
      h: 'index,docs.count',
      expand_wildcards: 'all',
    })) as { index?: string; 'docs.count'?: string }[];
    const dayPrefix = `${this.#prefix}-events-`;
    const expired = indices
      .map((entry) => ({ name: entry.index ?? '', docs: Number(entry['docs.count'] ?? 0) }))
      .filter((entry) => /^\d{4}\.\d{2}\.\d{2}$/.test(entry.name.slice(dayPrefix.length)))
      .map((entry) => ({ ...entry, day: entry.name.slice(dayPrefix.length).replaceAll('.', '-') }))
      .filter((entry) => entry.day < cutoffDay)
      .sort((a, b) => (a.day < b.day ? -1 : 1));
    // Named one by one: production clusters refuse wildcard deletes (action.destructive_requires_name).
    for (let start = 0; start < expired.length; start += 50) {
      const names = expired.slice(start, start + 50).map((entry) => entry.name);
      await this.#client.indices.delete({ index: names, ignore_unavailable: true });
    }
    if (expired.length > 0)
      this.#logger?.info({ days: expired.map((entry) => entry.day) }, 'retention deleted daily indices');
    return {
      days: expired.map((entry) => entry.day),
      events: expired.reduce((sum, entry) => sum + entry.docs, 0),
    };
  }

  topValues(search: EventSearch, field: string, size?: number): Promise<TopValues> {
    return this.#call(() => aggregations.topValues(this.#client, this.#names.events, search, field, size));
  }

  histogram(search: EventSearch, options?: HistogramOptions): Promise<Histogram> {
    return this.#call(() => aggregations.histogram(this.#client, this.#names.events, search, options));
  }

  distinctCount(search: EventSearch, field: string): Promise<number> {
    return this.#call(() => aggregations.distinctCount(this.#client, this.#names.events, search, field));
  }

  lastSeenBy(search: EventSearch, field: string, size?: number): Promise<LastSeen[]> {
    return this.#call(() => aggregations.lastSeenBy(this.#client, this.#names.events, search, field, size));
  }

  /** Turns ES's 400s on a search into query errors the API can show. */
  async #call<T>(request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (error) {
      throw this.#queryError(error);
    }
  }

  #queryError(error: unknown): unknown {
    if (error instanceof errors.ResponseError && error.meta.statusCode === 400) {
      return new StoreQueryError(`search refused: ${error.message}`);
    }
    return error;
  }
}

/** Agency scope and time range as filters around the checked query; no scoring, analysts sort by time. */
export function toQuery(plan: SearchPlan): estypes.QueryDslQueryContainer {
  const filter: estypes.QueryDslQueryContainer[] = [];
  if (plan.agencies !== undefined) filter.push({ terms: { 'agency.id': plan.agencies } });
  if (plan.from !== undefined || plan.to !== undefined) {
    filter.push({
      range: {
        '@timestamp': {
          ...(plan.from !== undefined ? { gte: plan.from } : {}),
          ...(plan.to !== undefined ? { lt: plan.to } : {}),
          format: 'strict_date_optional_time_nanos',
        },
      },
    });
  }
  if (plan.condition.kind !== 'all') filter.push(toElasticsearchQuery(plan.condition));
  if (plan.rule !== undefined) filter.push(plan.rule.elasticsearch() as estypes.QueryDslQueryContainer);
  return { bool: { filter } };
}

export async function createIndexIfMissing(
  client: Client,
  index: string,
  mappings: estypes.MappingTypeMapping,
  settings: estypes.IndicesIndexSettings = smallIndexSettings,
): Promise<void> {
  try {
    await client.indices.create({ index, settings, mappings });
  } catch (error) {
    if (
      error instanceof errors.ResponseError &&
      error.body?.error?.type === 'resource_already_exists_exception'
    )
      return;
    throw error;
  }
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
