/**
 * The reference evaluator of correlation rules: the semantics the correlator's windows (Redis or memory)
 * must reproduce, and the oracle its tests compare against. Choices the specification leaves open are
 * documented in docs/rules.md:
 *
 * - windows slide over event time and are inclusive at both ends: a hit at T sees every hit of its group in
 *   [T − timespan, T] (three hits at 0, 300 and 600 s within 10m fire);
 * - the condition is evaluated each time a hit arrives; when it holds the correlation fires once and that
 *   group's window is cleared, so the next firing needs a fresh set of hits;
 * - a hit lacking a group-by value (or the counted field) is not counted for that correlation;
 * - hits should arrive in event-time order; a late hit still inside its group's window counts, an older one
 *   is dropped;
 * - a firing is itself a hit of the correlation (chaining), with its group-by values as its fields.
 */
import type { RuleInfo } from '../rule-set.js';
import { type CompiledCorrelation, conditionHolds } from './compile.js';

/** One rule hit fed to the evaluator. */
export interface RuleHit<Ref = unknown> {
  ruleId: string;
  /** The event (a detection rule's) or the group values (a correlation's). */
  event: unknown;
  /** Event time, epoch milliseconds. */
  time: number;
  /** Caller's handle for the event (an index in a file, an event id). */
  ref: Ref;
}

export interface CorrelationHit<Ref = unknown> {
  rule: RuleInfo;
  correlation: CompiledCorrelation;
  groupBy: Record<string, string>;
  /** Event time of the hit that completed it. */
  time: number;
  /** The measured value: a count, a number of distinct values or a metric. */
  value: number;
  /** The hits in the window when it fired (base events of a chain are those of the inner firings). */
  refs: Ref[];
  /** The ref of the hit that completed it. */
  completedBy: Ref;
}

interface WindowEntry<Ref> {
  time: number;
  ruleId: string;
  value: string | undefined;
  refs: Ref[];
}

export class CorrelationEvaluator<Ref = unknown> {
  private readonly byRule = new Map<string, CompiledCorrelation[]>();
  /** correlation id → group key → hits in time order. */
  private readonly windows = new Map<string, Map<string, WindowEntry<Ref>[]>>();

  constructor(readonly correlations: CompiledCorrelation[]) {
    for (const correlation of correlations) {
      for (const ruleId of new Set(correlation.ruleIds)) {
        const list = this.byRule.get(ruleId) ?? [];
        list.push(correlation);
        this.byRule.set(ruleId, list);
      }
      this.windows.set(correlation.info.id, new Map());
    }
  }

  /** Whether any correlation listens to this rule's hits. */
  listensTo(ruleId: string): boolean {
    return this.byRule.has(ruleId);
  }

  /** Feeds one hit; returns every correlation that fired because of it, chained ones included. */
  push(hit: RuleHit<Ref>): CorrelationHit<Ref>[] {
    const fired: CorrelationHit<Ref>[] = [];
    this.pushInto(hit, [hit.ref], fired);
    return fired;
  }

  private pushInto(hit: RuleHit<Ref>, refs: Ref[], fired: CorrelationHit<Ref>[]): void {
    for (const correlation of this.byRule.get(hit.ruleId) ?? []) {
      const result = this.feed(correlation, hit, refs);
      if (!result) continue;
      fired.push(result);
      // Chaining: the firing is a hit of the correlation, carrying its group values as fields.
      this.pushInto(
        {
          ruleId: correlation.info.id,
          event: nestGroupValues(result.groupBy),
          time: result.time,
          ref: hit.ref,
        },
        result.refs,
        fired,
      );
    }
  }

  private feed(
    correlation: CompiledCorrelation,
    hit: RuleHit<Ref>,
    refs: Ref[],
  ): CorrelationHit<Ref> | undefined {
    const groupBy: Record<string, string> = {};
    const readers = correlation.groupReaders.get(hit.ruleId) ?? [];
    for (let i = 0; i < readers.length; i++) {
      const value = readers[i]!.read(hit.event);
      if (value === undefined) return undefined;
      groupBy[correlation.groupBy[i]!] = value;
    }
    let value: string | undefined;
    const valueReader = correlation.valueReaders.get(hit.ruleId);
    if (valueReader) {
      value = valueReader.read(hit.event);
      if (value === undefined) return undefined;
    }
    const key = JSON.stringify(correlation.groupBy.map((name) => groupBy[name]));
    const groups = this.windows.get(correlation.info.id)!;
    let window = groups.get(key);
    if (!window) {
      window = [];
      groups.set(key, window);
    }
    const newest = window.length > 0 ? Math.max(window[window.length - 1]!.time, hit.time) : hit.time;
    if (hit.time < newest - correlation.timespanMs) return undefined; // too late for any open window
    // Insert in time order (ties keep arrival order), then drop what fell out of the window.
    let at = window.length;
    while (at > 0 && window[at - 1]!.time > hit.time) at--;
    window.splice(at, 0, { time: hit.time, ruleId: hit.ruleId, value, refs });
    const start = newest - correlation.timespanMs;
    let drop = 0;
    while (drop < window.length && window[drop]!.time < start) drop++;
    if (drop > 0) window.splice(0, drop);

    const measured = measure(correlation, window);
    if (measured === undefined || !conditionHolds(correlation.condition, measured)) return undefined;
    groups.delete(key); // fired: the group starts afresh
    return {
      rule: correlation.info,
      correlation,
      groupBy,
      time: newest,
      value: measured,
      refs: window.flatMap((entry) => entry.refs),
      completedBy: hit.ref,
    };
  }
}

function measure(correlation: CompiledCorrelation, window: WindowEntry<unknown>[]): number | undefined {
  switch (correlation.type) {
    case 'event_count':
      return window.length;
    case 'value_count':
      return new Set(window.map((e) => e.value)).size;
    case 'temporal':
      return new Set(window.map((e) => e.ruleId)).size;
    case 'temporal_ordered':
      return orderedPrefix(correlation.ruleIds, window);
    case 'value_sum':
    case 'value_avg':
    case 'value_percentile':
    case 'value_median': {
      const numbers = window.map((e) => Number(e.value)).filter((n) => Number.isFinite(n));
      if (numbers.length === 0) return undefined;
      if (correlation.type === 'value_sum') return numbers.reduce((a, b) => a + b, 0);
      if (correlation.type === 'value_avg') return numbers.reduce((a, b) => a + b, 0) / numbers.length;
      const p = correlation.type === 'value_median' ? 50 : (correlation.condition.percentile ?? 50);
      return percentile(numbers, p);
    }
  }
}

/**
 * temporal_ordered: how many of the rules, in the order written, occur as a time-ordered subsequence of
 * the window (greedy earliest match is optimal for a subsequence). All of them means the order happened.
 */
function orderedPrefix(ruleIds: string[], window: WindowEntry<unknown>[]): number {
  let next = 0;
  for (const entry of window) {
    if (next < ruleIds.length && entry.ruleId === ruleIds[next]) next++;
  }
  return next;
}

/** Linear interpolation between closest ranks (numpy's default, as pySigma's backends compute it). */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (rank - low);
}

/**
 * `{'source.ip': '1.2.3.4'}` → `{source: {ip: '1.2.3.4'}, 'source.ip': '1.2.3.4'}`: a firing as the event a
 * chained correlation's readers read (shared with the correlator's windows).
 */
export function nestGroupValues(values: Record<string, string>): Record<string, unknown> {
  const root: Record<string, unknown> = { ...values };
  for (const [path, value] of Object.entries(values)) {
    const parts = path.split('.');
    if (parts.length === 1) continue;
    let node = root;
    for (const part of parts.slice(0, -1)) {
      const child = node[part];
      if (child === null || typeof child !== 'object') node[part] = {};
      node = node[part] as Record<string, unknown>;
    }
    node[parts[parts.length - 1]!] = value;
  }
  return root;
}

/** Runs hits (sorted by time here) through the evaluator: the whole stream's firings. */
export function evaluateCorrelations<Ref>(
  correlations: CompiledCorrelation[],
  hits: RuleHit<Ref>[],
): CorrelationHit<Ref>[] {
  const evaluator = new CorrelationEvaluator<Ref>(correlations);
  const sorted = [...hits].sort((a, b) => a.time - b.time);
  return sorted.flatMap((hit) => evaluator.push(hit));
}
