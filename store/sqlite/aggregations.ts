/**
 * Aggregations over the events table, with Elasticsearch's semantics: a document counts once per distinct
 * value (arrays included), values ES does not index (e.g. keywords over `ignore_above`) are not counted,
 * ties order by key (SQLite's BINARY order is Lucene's byte order).
 */
import type { Database } from 'better-sqlite3';
import type {
  EventSearch,
  Histogram,
  HistogramOptions,
  LastSeen,
  TopValues,
  ValueCount,
} from '../../core/ports.js';
import { type HistogramPlan, planHistogram, termsSize, valueField } from '../aggregation-plan.js';
import { bytesToIp } from '../ip.js';
import type { FieldRef } from '../query/ast.js';
import { planSearch } from '../search-plan.js';
import { type EventsWhere, toWhere } from './event-store.js';
import { jsonPath } from './json-path.js';
import { elementValue, type SqlValue } from './query-sql.js';
import { EVENT_DOC } from './schema.js';

/** Epoch ms of `ts` (fixed-width UTC text). */
const TS_MS = '(unixepoch(substr(events.ts, 1, 19)) * 1000 + CAST(substr(events.ts, 21, 3) AS INTEGER))';

interface ValueSource {
  /** FROM clause (events, plus json_each for document fields). */
  from: string;
  /** Expression of one value. */
  value: string;
  /** Parameters of the FROM clause (the JSON path), bound before the WHERE's. */
  params: SqlValue[];
  /** Rows are one per (event, value) with json_each: deduplicate per event. */
  perElement: boolean;
}

function valueSource(field: FieldRef, where: EventsWhere): ValueSource {
  if (field.column !== undefined) {
    return { from: where.from, value: `events.${field.column}`, params: [], perElement: false };
  }
  return {
    from: `${where.from}, json_each(${EVENT_DOC}, ?) AS j`,
    value: elementValue(field),
    params: [jsonPath(field.name)],
    perElement: true,
  };
}

function outputKey(field: FieldRef, key: unknown): string | number {
  if (field.type === 'ip' && key instanceof Uint8Array) return bytesToIp(key);
  return typeof key === 'number' ? key : String(key);
}

export function topValues(db: Database, search: EventSearch, fieldName: string, size?: number): TopValues {
  const field = valueField(fieldName);
  const limit = termsSize(size);
  const plan = planSearch({ ...search, after: undefined, limit: undefined });
  if (plan.condition.kind === 'none') return { buckets: [], other: 0 };
  const where = toWhere(plan, db);
  const source = valueSource(field, where);
  const rows = db
    .prepare(
      `SELECT key, n, sum(n) OVER () AS total FROM (
         SELECT key, count(*) AS n FROM (
           SELECT ${source.perElement ? 'DISTINCT' : ''} events.rid, ${source.value} AS key
           FROM ${source.from} WHERE ${where.sql}
         ) WHERE key IS NOT NULL GROUP BY key
       ) ORDER BY n DESC, key ASC LIMIT ?`,
    )
    .all([...source.params, ...where.params, limit]) as { key: unknown; n: number; total: number }[];
  const buckets: ValueCount[] = rows.map((row) => ({ key: outputKey(field, row.key), count: row.n }));
  const shown = buckets.reduce((sum, bucket) => sum + bucket.count, 0);
  return { buckets, other: (rows[0]?.total ?? 0) - shown };
}

export function distinctCount(db: Database, search: EventSearch, fieldName: string): number {
  const field = valueField(fieldName);
  const plan = planSearch({ ...search, after: undefined, limit: undefined });
  if (plan.condition.kind === 'none') return 0;
  const where = toWhere(plan, db);
  const source = valueSource(field, where);
  const row = db
    .prepare(`SELECT count(DISTINCT ${source.value}) AS n FROM ${source.from} WHERE ${where.sql}`)
    .get([...source.params, ...where.params]) as { n: number };
  return row.n;
}

export function lastSeenBy(db: Database, search: EventSearch, fieldName: string, size?: number): LastSeen[] {
  const field = valueField(fieldName);
  const limit = termsSize(size, 100);
  const plan = planSearch({ ...search, after: undefined, limit: undefined });
  if (plan.condition.kind === 'none') return [];
  const where = toWhere(plan, db);
  const source = valueSource(field, where);
  const rows = db
    .prepare(
      `SELECT key, max(ts) AS last, count(*) AS n FROM (
         SELECT ${source.perElement ? 'DISTINCT' : ''} events.rid, events.ts AS ts, ${source.value} AS key
         FROM ${source.from} WHERE ${where.sql}
       ) WHERE key IS NOT NULL GROUP BY key ORDER BY key ASC LIMIT ?`,
    )
    .all([...source.params, ...where.params, limit]) as { key: unknown; last: string; n: number }[];
  return rows.map((row) => ({
    key: outputKey(field, row.key),
    lastSeen: `${row.last.slice(0, 23)}Z`,
    count: row.n,
  }));
}

export function histogram(db: Database, search: EventSearch, options?: HistogramOptions): Histogram {
  const histogramPlan = planHistogram(search, options);
  const counts = new Map<number, number>();
  const splits = new Map<number, { key: unknown; count: number }[]>();
  if (histogramPlan.plan.condition.kind !== 'none') {
    const where = toWhere(histogramPlan.plan, db);
    const bucket = `((${TS_MS} / ${histogramPlan.intervalMs}) * ${histogramPlan.intervalMs})`;
    const rows = db
      .prepare(
        `SELECT ${bucket} AS bucket, count(*) AS n FROM ${where.from} WHERE ${where.sql} GROUP BY bucket`,
      )
      .all(where.params) as { bucket: number; n: number }[];
    for (const row of rows) counts.set(row.bucket, row.n);
    if (histogramPlan.split !== undefined) collectSplits(db, histogramPlan, bucket, splits);
  }
  const buckets = [];
  for (
    let start = histogramPlan.firstBucket;
    start <= histogramPlan.lastBucket;
    start += histogramPlan.intervalMs
  ) {
    const entry = { start: new Date(start).toISOString(), count: counts.get(start) ?? 0 };
    if (histogramPlan.split === undefined) buckets.push(entry);
    else {
      const field = histogramPlan.split.field;
      const values = (splits.get(start) ?? []).slice(0, histogramPlan.split.size);
      buckets.push({
        ...entry,
        split: values.map((value) => ({ key: outputKey(field, value.key), count: value.count })),
      });
    }
  }
  return { interval: histogramPlan.interval, intervalMs: histogramPlan.intervalMs, buckets };
}

function collectSplits(
  db: Database,
  histogramPlan: HistogramPlan,
  bucket: string,
  splits: Map<number, { key: unknown; count: number }[]>,
): void {
  const where = toWhere(histogramPlan.plan, db);
  const source = valueSource(histogramPlan.split!.field, where);
  const rows = db
    .prepare(
      `SELECT bucket, key, count(*) AS n FROM (
         SELECT ${source.perElement ? 'DISTINCT' : ''} events.rid, ${bucket} AS bucket, ${source.value} AS key
         FROM ${source.from} WHERE ${where.sql}
       ) WHERE key IS NOT NULL GROUP BY bucket, key ORDER BY bucket, n DESC, key ASC`,
    )
    .all([...source.params, ...where.params]) as { bucket: number; key: unknown; n: number }[];
  for (const row of rows) {
    let list = splits.get(row.bucket);
    if (list === undefined) {
      list = [];
      splits.set(row.bucket, list);
    }
    list.push({ key: row.key, count: row.n });
  }
}
