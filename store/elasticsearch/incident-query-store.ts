/**
 * The API's reads over incidents in Elasticsearch: filters, sort with `search_after` keyset paging, and
 * the aggregations of the triage statistics and IOC tiles. Adds (never changes) mappings for the fields
 * the API writes on incidents (response times), so they can be averaged.
 */
import type { Client, estypes } from '@elastic/elasticsearch';
import {
  INCIDENT_LIST_FIELDS,
  type Incident,
  type IncidentListItem,
  type Severity,
} from '../../core/model.js';
import type {
  IncidentCell,
  IncidentListPage,
  IncidentPage,
  IncidentQueries,
  IncidentQuery,
  IncidentSortField,
  IncidentSummary,
  RuleHits,
} from '../../core/ports.js';
import {
  checkPageLimit,
  decodeSortCursor,
  encodeSortCursor,
  MAX_INCIDENT_PAGE,
  timeBound,
} from '../api-cursors.js';
import { StoreQueryError } from '../errors.js';

/** Severities in rank order: severity sort pages through one severity at a time (no scripts needed). */
const SEVERITY_RANKS: Severity[] = ['low', 'medium', 'high', 'critical'];

const SORT_FIELD: Record<IncidentSortField, string> = {
  lastSeen: 'lastSeen',
  firstSeen: 'firstSeen',
  createdAt: 'createdAt',
  updatedAt: 'updatedAt',
  severity: 'severity',
  detectionCount: 'detectionCount',
};

const CLOSED = ['resolved', 'false_positive'];

export class ElasticsearchIncidentQueries implements IncidentQueries {
  constructor(
    private readonly client: Client,
    private readonly index: string,
    /** The detections index (rule hit counts); without it `ruleHits` answers nothing. */
    private readonly detectionsIndex?: string,
  ) {}

  async init(): Promise<void> {
    await this.client.indices.putMapping({
      index: this.index,
      properties: {
        acknowledgedAt: { type: 'date' },
        closedAt: { type: 'date' },
        timeToAcknowledgeMs: { type: 'long' },
        timeToResolveMs: { type: 'long' },
        mergedInto: { type: 'keyword' },
      },
    });
  }

  async search(query: IncidentQuery): Promise<IncidentPage> {
    return this.#page(query, { source: true, read: (hit: estypes.SearchHit<Incident>) => hit._source! });
  }

  /** The list's fields only, from `_source` includes: the rest of each document never leaves the node. */
  async list(query: IncidentQuery): Promise<IncidentListPage> {
    return this.#page(query, {
      source: { includes: [...INCIDENT_LIST_FIELDS] },
      versions: true,
      read: (hit: estypes.SearchHit<IncidentListItem>) => ({
        ...hit._source!,
        version: `${hit._seq_no}:${hit._primary_term}`,
      }),
    });
  }

  async #page<T extends { id: string }>(
    query: IncidentQuery,
    as: { source: estypes.SearchSourceConfig; versions?: boolean; read: (hit: estypes.SearchHit<T>) => T },
  ): Promise<{ incidents: T[]; total: number; next?: string }> {
    const limit = checkPageLimit(query.limit, MAX_INCIDENT_PAGE);
    if (query.agencies?.length === 0) return { incidents: [], total: 0 };
    const field = query.sort?.field ?? 'lastSeen';
    const order = query.sort?.order ?? 'desc';
    const after = query.after !== undefined ? decodeSortCursor(query.after, 2) : undefined;
    const filter = filtersOf(query);
    const shape = { _source: as.source, ...(as.versions ? { seq_no_primary_term: true } : {}) };
    if (field === 'severity') return this.#bySeverity(filter, order, limit, after, shape, as.read);
    const response = await this.client.search<T>({
      index: this.index,
      query: { bool: { filter } },
      sort: [{ [SORT_FIELD[field]]: { order, unmapped_type: 'long' } }, { id: { order } }],
      size: limit + 1,
      track_total_hits: true,
      ...shape,
      ...(after ? { search_after: after } : {}),
    });
    const hits = response.hits.hits;
    const incidents = hits.slice(0, limit).map(as.read);
    const last = hits.length > limit ? hits[limit - 1]! : undefined;
    return {
      incidents,
      total: totalOf(response.hits.total, incidents.length),
      ...(last?.sort ? { next: encodeSortCursor(last.sort as (string | number)[]) } : {}),
    };
  }

  /** Sorted by severity rank then id: one severity after another, the cursor holding [rank, id]. */
  async #bySeverity<T extends { id: string }>(
    filter: estypes.QueryDslQueryContainer[],
    order: 'asc' | 'desc',
    limit: number,
    after: (string | number)[] | undefined,
    shape: { _source: estypes.SearchSourceConfig; seq_no_primary_term?: boolean },
    read: (hit: estypes.SearchHit<T>) => T,
  ): Promise<{ incidents: T[]; total: number; next?: string }> {
    const counted = await this.client.count({ index: this.index, query: { bool: { filter } } });
    const ranks = order === 'asc' ? [1, 2, 3, 4] : [4, 3, 2, 1];
    const startRank = typeof after?.[0] === 'number' ? after[0] : undefined;
    if (after && (startRank === undefined || !ranks.includes(startRank))) {
      throw new StoreQueryError('invalid paging cursor');
    }
    const incidents: T[] = [];
    let more = false;
    let lastRank = 0;
    for (const rank of ranks) {
      if (startRank !== undefined && ranks.indexOf(rank) < ranks.indexOf(startRank)) continue;
      const wanted = limit + 1 - incidents.length;
      const response = await this.client.search<T>({
        index: this.index,
        query: { bool: { filter: [...filter, { term: { severity: SEVERITY_RANKS[rank - 1]! } }] } },
        sort: [{ id: { order } }],
        size: wanted,
        ...shape,
        ...(after && rank === startRank ? { search_after: [after[1]!] } : {}),
      });
      for (const hit of response.hits.hits) {
        if (incidents.length === limit) {
          more = true;
          break;
        }
        incidents.push(read(hit));
        lastRank = rank;
      }
      if (more) break;
    }
    const last = incidents[incidents.length - 1];
    return {
      incidents,
      total: counted.count,
      ...(more && last ? { next: encodeSortCursor([lastRank, last.id]) } : {}),
    };
  }

  async summarize(scope: {
    agencies?: string[];
    from: string;
    to: string;
    bucketMs: number;
    topTactics?: number;
  }): Promise<IncidentSummary> {
    const from = timeBound(scope.from)!;
    const to = timeBound(scope.to)!;
    const ranges: { key: string; from: number; to: number }[] = [];
    const end = Date.parse(to);
    for (let start = Date.parse(from); start < end && ranges.length < 10_000; start += scope.bucketMs) {
      ranges.push({
        key: new Date(start).toISOString(),
        from: start,
        to: Math.min(start + scope.bucketMs, end),
      });
    }
    if (scope.agencies?.length === 0) {
      return {
        open: [],
        created: [],
        createdHistogram: ranges.map((range) => ({ start: range.key, count: 0 })),
        createdHistogramByAgency: [],
        topTactics: [],
        tacticsByAgency: [],
      };
    }
    const scoped: estypes.QueryDslQueryContainer[] = scope.agencies
      ? [{ terms: { agency: scope.agencies } }]
      : [];
    const bySeverity = (extra: Record<string, estypes.AggregationsAggregationContainer> = {}) => ({
      agencies: {
        terms: { field: 'agency', size: 1000, order: { _key: 'asc' as const } },
        aggs: {
          severities: {
            terms: { field: 'severity', size: 10, order: { _key: 'asc' as const } },
            ...(Object.keys(extra).length ? { aggs: extra } : {}),
          },
        },
      },
    });
    const response = await this.client.search({
      index: this.index,
      size: 0,
      query: { bool: { filter: scoped } },
      aggs: {
        open: {
          filter: { bool: { must_not: [{ terms: { status: CLOSED } }] } },
          aggs: {
            ...bySeverity(),
            perAgency: {
              terms: { field: 'agency', size: 1000, order: { _key: 'asc' } },
              aggs: {
                tactics: {
                  terms: {
                    field: 'tactics',
                    size: scope.topTactics ?? 5,
                    order: [{ _count: 'desc' }, { _key: 'asc' }],
                  },
                },
              },
            },
            tactics: {
              terms: {
                field: 'tactics',
                size: scope.topTactics ?? 5,
                order: [{ _count: 'desc' }, { _key: 'asc' }],
              },
            },
          },
        },
        created: {
          filter: { range: { createdAt: { gte: from, lt: to } } },
          aggs: {
            ...bySeverity({
              acknowledged: { value_count: { field: 'timeToAcknowledgeMs' } },
              mtta: { avg: { field: 'timeToAcknowledgeMs' } },
              closed: { value_count: { field: 'timeToResolveMs' } },
              mttr: { avg: { field: 'timeToResolveMs' } },
            }),
            histogram: { range: { field: 'createdAt', keyed: false, ranges } },
            histogramByAgency: {
              terms: { field: 'agency', size: 1000, order: { _key: 'asc' } },
              aggs: { histogram: { range: { field: 'createdAt', keyed: false, ranges } } },
            },
          },
        },
      },
    });
    // biome-ignore lint/suspicious/noExplicitAny: aggregation responses are untyped by nature
    const aggs = response.aggregations as any;
    const open: IncidentSummary['open'] = [];
    for (const agency of aggs.open.agencies.buckets) {
      for (const severity of agency.severities.buckets) {
        open.push({ agency: agency.key, severity: severity.key as Severity, count: severity.doc_count });
      }
    }
    const created: IncidentCell[] = [];
    for (const agency of aggs.created.agencies.buckets) {
      for (const severity of agency.severities.buckets) {
        created.push({
          agency: agency.key,
          severity: severity.key as Severity,
          count: severity.doc_count,
          acknowledged: severity.acknowledged.value,
          meanTimeToAcknowledgeMs: severity.mtta.value === null ? null : Math.round(severity.mtta.value),
          closed: severity.closed.value,
          meanTimeToResolveMs: severity.mttr.value === null ? null : Math.round(severity.mttr.value),
        });
      }
    }
    const counts = aggs.created.histogram.buckets as { doc_count: number }[];
    return {
      open,
      created,
      createdHistogram: ranges.map((range, i) => ({ start: range.key, count: counts[i]?.doc_count ?? 0 })),
      createdHistogramByAgency: (
        aggs.created.histogramByAgency.buckets as {
          key: string;
          histogram: { buckets: { doc_count: number }[] };
        }[]
      ).map((agency) => ({
        agency: agency.key,
        counts: ranges.map((_range, i) => agency.histogram.buckets[i]?.doc_count ?? 0),
      })),
      tacticsByAgency: (
        aggs.open.perAgency.buckets as {
          key: string;
          tactics: { buckets: { key: string; doc_count: number }[] };
        }[]
      ).flatMap((agency) =>
        agency.tactics.buckets.map((bucket) => ({
          agency: agency.key,
          tactic: bucket.key,
          count: bucket.doc_count,
        })),
      ),
      topTactics: (aggs.open.tactics.buckets as { key: string; doc_count: number }[]).map((bucket) => ({
        tactic: bucket.key,
        count: bucket.doc_count,
      })),
    };
  }

  /** Detections per rule: a terms aggregation on `ruleId` with the newest `timestamp` of each. */
  async ruleHits(scope: { agencies?: string[]; from?: string; to?: string }): Promise<RuleHits[]> {
    if (scope.agencies?.length === 0 || !this.detectionsIndex) return [];
    const filter: estypes.QueryDslQueryContainer[] = [];
    if (scope.agencies !== undefined) filter.push({ terms: { agency: scope.agencies } });
    if (scope.from !== undefined || scope.to !== undefined) {
      filter.push({
        range: {
          timestamp: {
            ...(scope.from !== undefined ? { gte: timeBound(scope.from) } : {}),
            ...(scope.to !== undefined ? { lt: timeBound(scope.to) } : {}),
          },
        },
      });
    }
    const response = await this.client.search({
      index: this.detectionsIndex,
      size: 0,
      query: { bool: { filter } },
      aggs: {
        rules: {
          terms: { field: 'ruleId', size: 10_000, order: { _key: 'asc' } },
          aggs: { last: { max: { field: 'timestamp' } } },
        },
      },
    });
    const rules = response.aggregations?.rules as
      | { buckets: { key: string; doc_count: number; last: { value: number } }[] }
      | undefined;
    const buckets = rules?.buckets ?? [];
    return buckets.map((bucket) => ({
      ruleId: bucket.key,
      count: bucket.doc_count,
      lastHit: new Date(bucket.last.value).toISOString(),
    }));
  }

  async close(): Promise<void> {}
}

function totalOf(total: number | estypes.SearchTotalHits | undefined, fallback: number): number {
  return typeof total === 'number' ? total : (total?.value ?? fallback);
}

function filtersOf(query: IncidentQuery): estypes.QueryDslQueryContainer[] {
  const filter: estypes.QueryDslQueryContainer[] = [];
  if (query.agencies !== undefined) filter.push({ terms: { agency: query.agencies } });
  if (query.status !== undefined) filter.push({ terms: { status: query.status } });
  if (query.severity !== undefined) filter.push({ terms: { severity: query.severity } });
  if (query.ruleId !== undefined) filter.push({ term: { ruleId: query.ruleId } });
  if (query.assignee === null) filter.push({ bool: { must_not: [{ exists: { field: 'assignee' } }] } });
  else if (query.assignee !== undefined) filter.push({ term: { assignee: query.assignee } });
  if (query.tactic !== undefined) filter.push({ term: { tactics: query.tactic } });
  if (query.technique !== undefined) filter.push({ term: { techniques: query.technique } });
  if (query.tag !== undefined) filter.push({ term: { tags: query.tag } });
  if (query.text !== undefined && query.text !== '') {
    filter.push({
      bool: {
        should: [{ match_phrase: { title: query.text } }, { term: { id: query.text } }],
        minimum_should_match: 1,
      },
    });
  }
  const from = timeBound(query.time?.from);
  const to = timeBound(query.time?.to);
  if (from) filter.push({ range: { lastSeen: { gte: from } } });
  if (to) filter.push({ range: { firstSeen: { lt: to } } });
  return filter;
}
