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
import {
  compareText,
  type HistogramPlan,
  planHistogram,
  termsSize,
  valueField,
} from '../aggregation-plan.js';
import { bytesToIp } from '../ip.js';
import type { FieldRef } from '../query/ast.js';
import { planSearch, type SearchPlan } from '../search-plan.js';
import { type EventsWhere, toWhere } from './event-store.js';
import { jsonPath } from './json-path.js';
import { addressesInRange, elementValue, type SqlValue } from './query-sql.js';
import { EVENT_DOC, INDEXED_HOT_COLUMNS } from './schema.js';

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
  // By a column with a `(column, ts)` index and only a time range (the tiles' events per agency): count
  // each key's range in its index (statsPerKeyFromIndex visits keys in index order; the stable sort keeps that
  // order, SQLite's, among equal counts), instead of visiting every row of the range.
  const counted =
    statsPerSourceIp(db, plan, field, false) ?? statsPerKeyFromIndex(db, plan, field, MAX_KEY_HOPS);
  if (counted !== undefined) {
    const sorted = counted.sort((a, b) => b.count - a.count);
    const buckets = sorted.slice(0, limit).map(({ key, count }) => ({ key, count }));
    const total = counted.reduce((sum, entry) => sum + entry.count, 0);
    return { buckets, other: total - buckets.reduce((sum, bucket) => sum + bucket.count, 0) };
  }
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
  if (field.column === 'source_ip' && onlyTime(plan)) {
    // From the address entries alone, their (step, address) groups in their order, as statsPerSourceIp.
    const groups = addressGroups(plan, false);
    return db.prepare(`SELECT count(DISTINCT key) FROM (${groups.sql})`).pluck().get(groups.params) as number;
  }
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
  const fast =
    statsPerSourceIp(db, plan, field, true)?.slice(0, limit) ?? statsPerKeyFromIndex(db, plan, field, limit);
  if (fast !== undefined) return fast;
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
  return rows.map((row) => lastSeenOf(field, row));
}

function lastSeenOf(field: FieldRef, row: { key: unknown; last: string; n: number }): LastSeen {
  return { key: outputKey(field, row.key), lastSeen: `${row.last.slice(0, 23)}Z`, count: row.n };
}

/**
 * Last seen and count per address (source.ip) when the search has no other filter than time, from the
 * address entries alone (schema.ts ADDRESS_TABLE), in address order. Grouped by step and address first,
 * which is the table's order (no sort), then by address over those groups (addressGroups).
 */
function statsPerSourceIp(
  db: Database,
  plan: SearchPlan,
  field: FieldRef,
  withLast: boolean,
): LastSeen[] | undefined {
  if (field.column !== 'source_ip' || !onlyTime(plan)) return undefined;
  const groups = addressGroups(plan, withLast);
  const rows = db
    .prepare(`SELECT key, max(last) AS last, sum(n) AS n FROM (${groups.sql}) GROUP BY key ORDER BY key`)
    .all(groups.params) as { key: unknown; last: string; n: number }[];
  return rows.map((row) => lastSeenOf(field, row));
}

/**
 * `(key, last, n)` per address step and address over the plan's time range: the entries of each step
 * overlapping it, grouped in the table's order, and the rows past the address mark (at most ADDRESS_STEP)
 * grouped by address. An address appears once per step it has entries in. The counts alone (topValues,
 * distinctCount) spare the max(ts) of every entry.
 */
function addressGroups(plan: SearchPlan, withLast: boolean): { sql: string; params: SqlValue[] } {
  const { stepped, tail } = addressesInRange({ from: plan.from, to: plan.to });
  return {
    sql: `SELECT a.source_ip AS key, ${withLast ? 'max(a.ts)' : "''"} AS last, count(*) AS n
      FROM event_addresses AS a WHERE ${stepped.sql}
      GROUP BY a.step, a.source_ip
      UNION ALL
      SELECT t.source_ip, ${withLast ? 'max(t.ts)' : "''"}, count(*) FROM event_rows AS t
      WHERE ${tail.sql} AND t.source_ip IS NOT NULL
      GROUP BY t.source_ip`,
    params: [...stepped.params, ...tail.params],
  };
}

/** Keys visited by statsPerKeyFromIndex before it gives way to the general query (a range with few of the keys). */
const MAX_KEY_HOPS = 5000;

/**
 * Last seen and count per key of a column with a `(column, ts)` index, when the search has no other filter
 * than time (and agency scope for the agency itself): hop from key to key in the index and read each key's
 * range there, so the work is the index entries in range, never a table row. Serves lastSeenBy (the
 * silent-sources tile) and topValues (events per agency). Undefined when it does not apply; the general
 * query answers then.
 */
function statsPerKeyFromIndex(
  db: Database,
  plan: SearchPlan,
  field: FieldRef,
  limit: number,
): LastSeen[] | undefined {
  const column = field.column;
  if (column === undefined || plan.condition.kind !== 'all' || plan.rule !== undefined) return undefined;
  if (column !== 'agency' && (plan.agencies !== undefined || !INDEXED_HOT_COLUMNS.includes(column))) {
    return undefined;
  }
  const stats = db.prepare(
    `SELECT max(ts) AS last, count(*) AS n FROM event_rows WHERE ${column} = ? AND ts >= ? AND ts < ?`,
  );
  const from = plan.from ?? '';
  const to = plan.to ?? '~';
  const result: LastSeen[] = [];
  const visit = (key: unknown) => {
    const row = stats.get(key, from, to) as { last: string | null; n: number };
    if (row.n > 0 && row.last !== null) result.push(lastSeenOf(field, { key, last: row.last, n: row.n }));
  };
  if (plan.agencies !== undefined) {
    const keys = [...new Set(plan.agencies)].sort(compareText);
    for (const key of keys) {
      if (result.length === limit) break;
      visit(key);
    }
    return result;
  }
  const after = db
    .prepare(`SELECT ${column} FROM event_rows WHERE ${column} > ? ORDER BY ${column} LIMIT 1`)
    .pluck();
  let key: unknown = db
    .prepare(`SELECT ${column} FROM event_rows WHERE ${column} IS NOT NULL ORDER BY ${column} LIMIT 1`)
    .pluck()
    .get();
  for (let hops = 0; key !== undefined && result.length < limit; hops++) {
    if (hops === MAX_KEY_HOPS) return undefined;
    visit(key);
    key = after.get(key);
  }
  return result;
}

export function histogram(db: Database, search: EventSearch, options?: HistogramOptions): Histogram {
  const histogramPlan = planHistogram(search, options);
  const counts = new Map<number, number>();
  const splits = new Map<number, { key: unknown; count: number }[]>();
  if (histogramPlan.plan.condition.kind !== 'none') {
    const where = toWhere(histogramPlan.plan, db);
    const bucket = bucketOf(TS_MS, histogramPlan.intervalMs);
    const splitColumn = histogramPlan.split?.field.column;
    const prefix = timePrefix(histogramPlan.intervalMs);
    if (splitColumn !== undefined) {
      // A single-valued column: one grouping by (bucket, value) gives the splits and, summed, the counts.
      // Grouped by the time's text prefix first when no prefix straddles two buckets (see timePrefix).
      const agencies = splitColumn === 'agency' && onlyTime(histogramPlan.plan);
      const rows = db
        .prepare(
          prefix === undefined
            ? `SELECT ${bucket} AS bucket, events.${splitColumn} AS key, count(*) AS n FROM ${where.from}
               WHERE ${where.sql} GROUP BY bucket, key ORDER BY bucket, n DESC, key ASC`
            : `${agencies ? EVERY_AGENCY : ''}
               SELECT ${bucketOf(prefix.ms, histogramPlan.intervalMs)} AS bucket, key, sum(n) AS n FROM (
                 SELECT ${prefix.text} AS prefix, events.${splitColumn} AS key, count(*) AS n FROM ${where.from}
                 WHERE ${where.sql} ${agencies ? 'AND events.agency IN (SELECT agency FROM every_agency)' : ''}
                 GROUP BY prefix, key
               ) GROUP BY bucket, key ORDER BY bucket, n DESC, key ASC`,
        )
        .all(where.params) as { bucket: number; key: unknown; n: number }[];
      for (const row of rows) {
        counts.set(row.bucket, (counts.get(row.bucket) ?? 0) + row.n);
        if (row.key !== null) addSplit(splits, row.bucket, row.key, row.n);
      }
    } else {
      const rows = db
        .prepare(
          prefix === undefined
            ? `SELECT ${bucket} AS bucket, count(*) AS n FROM ${where.from} WHERE ${where.sql} GROUP BY bucket`
            : `SELECT ${bucketOf(prefix.ms, histogramPlan.intervalMs)} AS bucket, sum(n) AS n FROM (
                 SELECT ${prefix.text} AS prefix, count(*) AS n FROM ${where.from} WHERE ${where.sql} GROUP BY prefix
               ) GROUP BY bucket`,
        )
        .all(where.params) as { bucket: number; n: number }[];
      for (const row of rows) counts.set(row.bucket, row.n);
      if (histogramPlan.split !== undefined) collectSplits(db, histogramPlan, bucket, splits);
    }
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

/**
 * `every_agency`: the stored agencies, one seek each in `(agency, ts)`. `events.agency IN (every_agency)` is
 * true of every row (agency is NOT NULL) and lets SQLite read a time range agency by agency from that index
 * alone instead of reading each row of the range beside `(ts, id)` (24 h of 1M events by agency and hour:
 * ~120 → ~50 ms).
 */
const EVERY_AGENCY = `WITH RECURSIVE every_agency(agency) AS (
  SELECT (SELECT min(agency) FROM event_rows)
  UNION ALL
  SELECT (SELECT min(agency) FROM event_rows WHERE agency > every_agency.agency) FROM every_agency
  WHERE every_agency.agency IS NOT NULL
)`;

/** A search of a time range only (and no agency scope, no rule). */
function onlyTime(plan: SearchPlan): boolean {
  return plan.condition.kind === 'all' && plan.rule === undefined && plan.agencies === undefined;
}

/** The bucket (epoch ms of its start, buckets aligned on the epoch) of the time `ms` (an SQL expression). */
function bucketOf(ms: string, intervalMs: number): string {
  return `((${ms} / ${intervalMs}) * ${intervalMs})`;
}

/**
 * The text prefix of `ts` that a histogram may group by before computing buckets, with the epoch ms of the
 * prefix's start (`prefix`: the inner query's column): the hour (`YYYY-MM-DDTHH`), the minute or the second,
 * the longest span the interval is a whole multiple of. Buckets start at multiples of the interval since the
 * epoch, so such a span never straddles two buckets, and the date arithmetic runs once per group rather
 * than once per row (24 h of 1M events by agency and hour: 143k rows, ~740 groups). Undefined for an
 * interval under a second or not a whole number of seconds.
 */
function timePrefix(intervalMs: number): { text: string; ms: string } | undefined {
  for (const [length, spanMs, pad] of [
    [13, 3_600_000, ':00:00'],
    [16, 60_000, ':00'],
    [19, 1000, ''],
  ] as const) {
    if (intervalMs % spanMs === 0) {
      return { text: `substr(events.ts, 1, ${length})`, ms: `(unixepoch(prefix || '${pad}') * 1000)` };
    }
  }
  return undefined;
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
  for (const row of rows) addSplit(splits, row.bucket, row.key, row.n);
}

function addSplit(
  splits: Map<number, { key: unknown; count: number }[]>,
  bucket: number,
  key: unknown,
  count: number,
): void {
  let list = splits.get(bucket);
  if (list === undefined) {
    list = [];
    splits.set(bucket, list);
  }
  list.push({ key, count });
}
