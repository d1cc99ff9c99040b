/**
 * The window of one (correlation rule, group key): a pure state machine, shared by both modes. Embedded
 * mode keeps its state in memory, scale mode in Redis (read, apply here, compare-and-set by a Lua script),
 * so the semantics cannot drift between them. They are the reference evaluator's (rules/correlation/
 * evaluate.ts), extended for out-of-order arrival and re-delivery:
 *
 * - a hit at event time T fires when the hits of its group in [E − timespan, E] meet the condition, for the
 *   window end E = T (in-order arrival: exactly the reference) or, for a hit arriving out of order, the first
 *   later hit's time E ≤ T + timespan at which the condition holds ("as if on time");
 * - firing consumes every hit of the group up to E (the group starts afresh, as in the reference);
 * - a hit more than `latenessMs` behind the newest hit of its group is late: not counted, reported so the
 *   event is flagged; hits are retained for timespan + lateness, which bounds the state;
 * - a hit seen before (a re-delivered batch) changes nothing; if it completed a firing, that firing is
 *   returned again, so a crash between this state and the incident store loses no correlation.
 */
import type { CompiledCorrelation } from '../../rules/index.js';
import { conditionHolds, percentile } from '../../rules/index.js';

/** One rule hit as a window entry. Compact on purpose: it is stored per hit in Redis. */
export interface WindowHit {
  /** Event time, epoch ms. */
  time: number;
  /** Index of the rule in the correlation's `ruleIds`. */
  rule: number;
  /** Identity within the rule: the event id (detection rule) or the correlation detection id (chained). */
  key: string;
  /** The counted value (value_count, value_* metrics). */
  value?: string;
  agency: string;
  /** Event ids behind a chained hit (a detection rule's hit is its own event, `key`). */
  refs?: string[];
  /** A chained hit's earliest event time, epoch ms (its `time` is when the inner correlation fired). */
  first?: number;
}

/** A firing, kept (bounded by time) so that a re-delivered completing hit returns it again. */
export interface Firing {
  /** Window end, epoch ms (the reference's `time`). */
  time: number;
  value: number;
  /** `rule:key` of the hit that completed it. */
  completedBy: string;
  /** The hits in the window when it fired, in time order. */
  hits: WindowHit[];
  /** Every hit it consumed (window plus older retained ones): re-deliveries of these are duplicates. */
  consumed: string[];
}

export interface GroupState {
  /** Newest event time seen in the group (lateness is measured from it); kept across firings. */
  newest: number;
  /** Hits not yet consumed, in time order (ties in arrival order). */
  hits: WindowHit[];
  firings: Firing[];
}

export interface WindowOutcome {
  state: GroupState | null;
  /** New firings, and earlier ones completed by a re-delivered hit. */
  firings: Firing[];
  /** Keys of hits too late to count (their events are flagged). */
  late: WindowHit[];
  /** Hits dropped because the group reached its entry cap (oldest first). */
  evicted: number;
}

export const identityOf = (hit: WindowHit): string => `${hit.rule}:${hit.key}`;

/**
 * Applies hits (one batch's, for one group) to a group's state. Pure: `state` is not modified.
 * `maxHits` caps the retained hits per group (a flood in one group cannot grow memory without bound).
 * Every hit's time is finite (correlate.ts flags a hit whose time does not parse instead): the retained hits
 * are kept in time order and searched by bisection.
 *
 * Per hit this allocates nothing unless the hit fires: groups are many (one per attacking address) and
 * mostly see one hit per batch, so building identity sets of the whole retained window per batch, or
 * copying each candidate window, made this stage cost more than matching.
 */
export function applyToGroup(
  correlation: CompiledCorrelation,
  previous: GroupState | null,
  hits: WindowHit[],
  latenessMs: number,
  maxHits: number,
): WindowOutcome {
  const span = correlation.timespanMs;
  const state: GroupState = previous
    ? { newest: previous.newest, hits: previous.hits.slice(), firings: previous.firings.slice() }
    : { newest: Number.NEGATIVE_INFINITY, hits: [], firings: [] };
  const firings: Firing[] = [];
  const late: WindowHit[] = [];
  let evicted = 0;
  // Hits consumed by the retained firings (→ the firing a hit completed), built only when a hit could be
  // one of them: a firing consumes hits up to its window end, so a hit later than every retained firing's
  // end (in-order arrival, nearly every hit) is not. A busy group retains tens of firings of ~100 hits;
  // building this map on every batch that touched it cost more than the batch.
  let consumed: Map<string, Firing | undefined> | undefined;
  let lastEnd = Number.NEGATIVE_INFINITY;
  for (const firing of state.firings) if (firing.time > lastEnd) lastEnd = firing.time;

  for (const hit of hits) {
    if (hit.time <= lastEnd) {
      consumed ??= consumedBy(state.firings);
      const id = identityOf(hit);
      if (consumed.has(id)) {
        const replayed = consumed.get(id);
        if (replayed && !firings.includes(replayed)) firings.push(replayed);
        continue;
      }
    }
    if (isRetained(state.hits, hit)) continue;
    if (hit.time < state.newest - latenessMs) {
      late.push(hit);
      continue;
    }
    if (hit.time > state.newest) state.newest = hit.time;
    let at = state.hits.length;
    while (at > 0 && state.hits[at - 1]!.time > hit.time) at--;
    state.hits.splice(at, 0, hit);

    const firing = evaluate(correlation, state.hits, at);
    if (!firing) continue;
    state.hits = state.hits.slice(firing.consumed.length);
    if (consumed) {
      for (const consumedId of firing.consumed) consumed.set(consumedId, undefined);
      consumed.set(firing.completedBy, firing);
    }
    if (firing.time > lastEnd) lastEnd = firing.time;
    state.firings.push(firing);
    firings.push(firing);
  }

  // Retention: nothing older than timespan + lateness behind the newest hit can take part in a window.
  const horizon = state.newest - span - latenessMs;
  let drop = 0;
  while (drop < state.hits.length && state.hits[drop]!.time < horizon) drop++;
  if (state.hits.length - drop > maxHits) {
    evicted = state.hits.length - drop - maxHits;
    drop += evicted;
  }
  if (drop > 0) state.hits = state.hits.slice(drop);
  if (state.firings.length > 0) state.firings = state.firings.filter((firing) => firing.time >= horizon);
  const empty = state.hits.length === 0 && state.firings.length === 0;
  return { state: empty ? null : state, firings, late, evicted };
}

/** The identities the firings consumed, each → the firing it completed (undefined for the others). */
function consumedBy(firings: Firing[]): Map<string, Firing | undefined> {
  const consumed = new Map<string, Firing | undefined>();
  for (const firing of firings) {
    for (const id of firing.consumed) if (!consumed.has(id)) consumed.set(id, undefined);
    consumed.set(firing.completedBy, firing);
  }
  return consumed;
}

/**
 * Whether a hit with the same identity (rule and key) is retained (a re-delivered batch). A re-delivered
 * hit has its original's time, and the retained hits are in time order: only those of its time are
 * compared, found by bisection. (A set of the retained keys, rebuilt per batch, cost a group of 1,000
 * retained hits more than the rest of its batch; a new hit later than all of them compares none.)
 */
function isRetained(retained: WindowHit[], hit: WindowHit): boolean {
  let low = 0;
  let high = retained.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (retained[middle]!.time < hit.time) low = middle + 1;
    else high = middle;
  }
  for (let i = low; i < retained.length && retained[i]!.time === hit.time; i++) {
    const other = retained[i]!;
    if (other.key === hit.key && other.rule === hit.rule) return true;
  }
  return false;
}

/**
 * Evaluates the windows that the hit just inserted at `at` completes: ending at its own time, then at each
 * later hit's time within one timespan (out-of-order arrival). Returns the first firing.
 */
function evaluate(correlation: CompiledCorrelation, hits: WindowHit[], at: number): Firing | undefined {
  const span = correlation.timespanMs;
  const time = hits[at]!.time;
  let start = at;
  for (let end = at; end < hits.length; end++) {
    const endTime = hits[end]!.time;
    if (endTime > time + span) break;
    // Only distinct window ends: the last hit with this time closes the window.
    if (end + 1 < hits.length && hits[end + 1]!.time === endTime) continue;
    // Window starts only move forward as the end does (hits are in time order).
    while (start > 0 && hits[start - 1]!.time >= endTime - span) start--;
    while (hits[start]!.time < endTime - span) start++;
    const value = measure(correlation, hits, start, end + 1);
    if (value === undefined || !conditionHolds(correlation.condition, value)) continue;
    return {
      time: endTime,
      value,
      completedBy: identityOf(hits[at]!),
      hits: hits.slice(start, end + 1),
      consumed: hits.slice(0, end + 1).map(identityOf),
    };
  }
  return undefined;
}

/** The measured value of the window `hits[from, to)`, as the reference evaluator defines it per correlation type. */
function measure(
  correlation: CompiledCorrelation,
  hits: WindowHit[],
  from: number,
  to: number,
): number | undefined {
  switch (correlation.type) {
    case 'event_count':
      return to - from;
    case 'value_count': {
      const values = new Set<string | undefined>();
      for (let i = from; i < to; i++) values.add(hits[i]!.value);
      return values.size;
    }
    case 'temporal': {
      const rules = new Set<number>();
      for (let i = from; i < to; i++) rules.add(hits[i]!.rule);
      return rules.size;
    }
    case 'temporal_ordered': {
      // How many of the rules, in the order written, occur as a time-ordered subsequence of the window.
      let next = 0;
      for (let i = from; i < to; i++) {
        if (
          next < correlation.ruleIds.length &&
          correlation.ruleIds[hits[i]!.rule] === correlation.ruleIds[next]
        )
          next++;
      }
      return next;
    }
    case 'value_sum':
    case 'value_avg':
    case 'value_percentile':
    case 'value_median': {
      const numbers: number[] = [];
      for (let i = from; i < to; i++) {
        const n = Number(hits[i]!.value);
        if (Number.isFinite(n)) numbers.push(n);
      }
      if (numbers.length === 0) return undefined;
      if (correlation.type === 'value_sum') return numbers.reduce((a, b) => a + b, 0);
      if (correlation.type === 'value_avg') return numbers.reduce((a, b) => a + b, 0) / numbers.length;
      const p = correlation.type === 'value_median' ? 50 : (correlation.condition.percentile ?? 50);
      return percentile(numbers, p);
    }
  }
}
