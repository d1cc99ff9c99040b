/**
 * Shared checks and choices for aggregations, so both stores bucket and refuse alike: which fields can be
 * counted by value, the histogram interval for a range, and the bucket starts.
 */
import { parseDuration } from '../core/duration.js';
import type { EventSearch, HistogramOptions } from '../core/ports.js';
import { StoreQueryError } from './errors.js';
import type { FieldRef } from './query/ast.js';
import { resolveField } from './query/values.js';
import { planSearch, type SearchPlan } from './search-plan.js';

export const MAX_TERMS = 1000;
export const MAX_BUCKETS = 2000;

/** A field whose values can be counted: keyword, IP, number or unmapped (not full text, not dates). */
export function valueField(name: string): FieldRef {
  const field = resolveField(name, undefined, { allowUnmapped: () => true });
  if (field.type === 'text') throw new StoreQueryError(`${name} is full text: count a keyword field instead`);
  if (field.type === 'date' || field.type === 'date_nanos') {
    throw new StoreQueryError(`${name} is a date: use a histogram to count by time`);
  }
  return field;
}

export function termsSize(size: number | undefined, fallback = 10): number {
  const value = size ?? fallback;
  if (!Number.isInteger(value) || value < 1 || value > MAX_TERMS) {
    throw new StoreQueryError(`size must be an integer from 1 to ${MAX_TERMS}`);
  }
  return value;
}

const NICE_INTERVALS: [string, number][] = [
  ['1s', 1_000],
  ['5s', 5_000],
  ['10s', 10_000],
  ['30s', 30_000],
  ['1m', 60_000],
  ['5m', 300_000],
  ['10m', 600_000],
  ['30m', 1_800_000],
  ['1h', 3_600_000],
  ['3h', 10_800_000],
  ['6h', 21_600_000],
  ['12h', 43_200_000],
  ['1d', 86_400_000],
  ['7d', 604_800_000],
  ['30d', 2_592_000_000],
];

export interface HistogramPlan {
  plan: SearchPlan;
  interval: string;
  intervalMs: number;
  /** Epoch ms of the first and last bucket starts (aligned to the epoch). */
  firstBucket: number;
  lastBucket: number;
  split?: { field: FieldRef; size: number };
}

export function planHistogram(search: EventSearch, options: HistogramOptions = {}): HistogramPlan {
  const plan = planSearch({ ...search, after: undefined, limit: undefined });
  if (plan.from === undefined || plan.to === undefined) {
    throw new StoreQueryError('a histogram needs time.from and time.to');
  }
  const from = Date.parse(plan.from.slice(0, 23) + 'Z');
  // `to` is exclusive: the last instant in range is just before it.
  const lastInstant = Date.parse(plan.to.slice(0, 23) + 'Z') - (plan.to.endsWith('000000Z') ? 1 : 0);
  if (lastInstant < from) throw new StoreQueryError('time.to must be after time.from');
  let interval: string;
  let intervalMs: number;
  if (options.interval !== undefined) {
    const ms = parseDuration(options.interval);
    if (ms === undefined || ms < 1000 || !Number.isInteger(ms / 1000)) {
      throw new StoreQueryError(
        `interval ${JSON.stringify(options.interval)} must be whole seconds, like 30s, 5m, 1h, 1d`,
      );
    }
    interval = options.interval;
    intervalMs = ms;
  } else {
    const target = options.targetBuckets ?? 60;
    if (!Number.isInteger(target) || target < 1 || target > MAX_BUCKETS) {
      throw new StoreQueryError(`targetBuckets must be an integer from 1 to ${MAX_BUCKETS}`);
    }
    const span = lastInstant - from + 1;
    const chosen =
      NICE_INTERVALS.find(([, ms]) => span / ms <= target) ?? NICE_INTERVALS[NICE_INTERVALS.length - 1]!;
    [interval, intervalMs] = chosen;
  }
  const firstBucket = Math.floor(from / intervalMs) * intervalMs;
  const lastBucket = Math.floor(lastInstant / intervalMs) * intervalMs;
  if ((lastBucket - firstBucket) / intervalMs + 1 > MAX_BUCKETS) {
    throw new StoreQueryError(`the range holds more than ${MAX_BUCKETS} buckets of ${interval}`);
  }
  const split =
    options.splitBy === undefined
      ? undefined
      : { field: valueField(options.splitBy.field), size: termsSize(options.splitBy.size) };
  return split === undefined
    ? { plan, interval, intervalMs, firstBucket, lastBucket }
    : { plan, interval, intervalMs, firstBucket, lastBucket, split };
}

/** Bucket starts from first to last, each as ISO text. */
export function bucketStarts(histogram: HistogramPlan): number[] {
  const starts: number[] = [];
  for (let start = histogram.firstBucket; start <= histogram.lastBucket; start += histogram.intervalMs) {
    starts.push(start);
  }
  return starts;
}

/** Terms order in both stores: count descending, then key ascending (numbers numerically, text by code point). */
export function compareBuckets(
  a: { key: string | number; count: number },
  b: { key: string | number; count: number },
): number {
  if (a.count !== b.count) return b.count - a.count;
  if (typeof a.key === 'number' && typeof b.key === 'number') return a.key - b.key;
  return compareText(String(a.key), String(b.key));
}

/** UTF-8 byte order, the order of Lucene terms and of SQLite's BINARY collation. */
export function compareText(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}
