/**
 * Aggregations over the events alias with core aggregations only (terms, date_histogram, cardinality,
 * max). Terms are ordered by count then key, like the SQLite store; `shard_size` is raised because
 * every daily index is a shard and per-shard top lists would otherwise drop values from the totals.
 */
import type { Client, estypes } from '@elastic/elasticsearch';
import type {
  EventSearch,
  Histogram,
  HistogramOptions,
  LastSeen,
  TopValues,
  ValueCount,
} from '../../core/ports.js';
import { planHistogram, termsSize, valueField } from '../aggregation-plan.js';
import { planSearch } from '../search-plan.js';
import { toQuery } from './event-store.js';

type Aggregations = Record<string, estypes.AggregationsAggregationContainer>;

interface TermsBucket {
  key: string | number;
  doc_count: number;
  [name: string]: unknown;
}

function termsAggregation(field: string, size: number): estypes.AggregationsTermsAggregation {
  return {
    field,
    size,
    shard_size: Math.max(size * 20, 2000),
    order: [{ _count: 'desc' }, { _key: 'asc' }],
  };
}

async function aggregate(
  client: Client,
  index: string,
  query: estypes.QueryDslQueryContainer,
  aggs: Aggregations,
): Promise<Record<string, estypes.AggregationsAggregate>> {
  const response = await client.search({
    index,
    ignore_unavailable: true,
    allow_no_indices: true,
    size: 0,
    track_total_hits: false,
    query,
    aggs,
  });
  return response.aggregations ?? {};
}

function bucketsOf(aggregate: estypes.AggregationsAggregate | undefined): TermsBucket[] {
  return ((aggregate as { buckets?: TermsBucket[] } | undefined)?.buckets ?? []) as TermsBucket[];
}

export async function topValues(
  client: Client,
  index: string,
  search: EventSearch,
  fieldName: string,
  size?: number,
): Promise<TopValues> {
  const field = valueField(fieldName);
  const limit = termsSize(size);
  const plan = planSearch({ ...search, after: undefined, limit: undefined });
  if (plan.condition.kind === 'none') return { buckets: [], other: 0 };
  const result = await aggregate(client, index, toQuery(plan), {
    values: { terms: termsAggregation(field.name, limit) },
  });
  const values = result.values as { sum_other_doc_count?: number } | undefined;
  const buckets: ValueCount[] = bucketsOf(result.values).map((bucket) => ({
    key: bucket.key,
    count: bucket.doc_count,
  }));
  return { buckets, other: values?.sum_other_doc_count ?? 0 };
}

export async function distinctCount(
  client: Client,
  index: string,
  search: EventSearch,
  fieldName: string,
): Promise<number> {
  const field = valueField(fieldName);
  const plan = planSearch({ ...search, after: undefined, limit: undefined });
  if (plan.condition.kind === 'none') return 0;
  const result = await aggregate(client, index, toQuery(plan), {
    distinct: { cardinality: { field: field.name, precision_threshold: 40_000 } },
  });
  return (result.distinct as { value?: number } | undefined)?.value ?? 0;
}

export async function lastSeenBy(
  client: Client,
  index: string,
  search: EventSearch,
  fieldName: string,
  size?: number,
): Promise<LastSeen[]> {
  const field = valueField(fieldName);
  const limit = termsSize(size, 100);
  const plan = planSearch({ ...search, after: undefined, limit: undefined });
  if (plan.condition.kind === 'none') return [];
  const result = await aggregate(client, index, toQuery(plan), {
    values: {
      terms: {
        field: field.name,
        size: limit,
        shard_size: Math.max(limit * 20, 2000),
        order: { _key: 'asc' },
      },
      aggs: { last: { max: { field: '@timestamp' } } },
    },
  });
  return bucketsOf(result.values).map((bucket) => ({
    key: bucket.key,
    lastSeen: new Date(Math.floor((bucket.last as { value: number }).value)).toISOString(),
    count: bucket.doc_count,
  }));
}

export async function histogram(
  client: Client,
  index: string,
  search: EventSearch,
  options?: HistogramOptions,
): Promise<Histogram> {
  const plan = planHistogram(search, options);
  const byStart = new Map<number, TermsBucket>();
  if (plan.plan.condition.kind !== 'none') {
    const result = await aggregate(client, index, toQuery(plan.plan), {
      histogram: {
        date_histogram: {
          field: '@timestamp',
          fixed_interval: `${plan.intervalMs}ms`,
          min_doc_count: 1,
        },
        ...(plan.split
          ? { aggs: { split: { terms: termsAggregation(plan.split.field.name, plan.split.size) } } }
          : {}),
      },
    });
    for (const bucket of bucketsOf(result.histogram)) byStart.set(Number(bucket.key), bucket);
  }
  const buckets = [];
  for (let start = plan.firstBucket; start <= plan.lastBucket; start += plan.intervalMs) {
    const bucket = byStart.get(start);
    const entry = { start: new Date(start).toISOString(), count: bucket?.doc_count ?? 0 };
    if (plan.split === undefined) buckets.push(entry);
    else {
      const split = bucketsOf(bucket?.split as estypes.AggregationsAggregate | undefined).map((value) => ({
        key: value.key,
        count: value.doc_count,
      }));
      buckets.push({ ...entry, split });
    }
  }
  return { interval: plan.interval, intervalMs: plan.intervalMs, buckets };
}
