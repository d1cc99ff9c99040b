/**
 * The correlate stage: a batch's rule matches → correlation detections. Each correlation rule's hits are
 * grouped by its group-by values, and every group's window is updated once per batch (read, apply, compare-
 * and-set; retried on a lost race). Correlations run in dependency order, so a correlation that references
 * another sees that one's firings from the same batch (chaining).
 */
import { PROVINCE_AGENCY } from '../../core/agencies.js';
import { detectionIdOf, digest } from '../../core/identity.js';
import type { Logger } from '../../core/logger.js';
import type { Detection, SecurityEvent } from '../../core/model.js';
import { type CompiledCorrelation, nestGroupValues, type RuleSet } from '../../rules/index.js';
import { applyToGroup, type Firing, type WindowHit } from './group-window.js';
import { type CorrelationStateStore, flatten, type GroupWrite } from './state-store.js';

/** A detection rule's match on one event, as the match stage produces it. */
export interface RuleMatchOnEvent {
  detection: Detection;
  event: SecurityEvent;
}

export interface CorrelationOutput {
  /** Correlation detections (new firings, and earlier ones completed by a re-delivered hit). */
  detections: Detection[];
  /** Correlation detections that feed another correlation only (Sigma `generate: false`): no incident. */
  silent: Set<string>;
  /** Events that came too late for a correlation window they belong to: indexed with a flag, not counted. */
  lateEventIds: Set<string>;
}

export interface CorrelatorOptions {
  /** How far behind its group's newest hit a hit may arrive and still count (config `correlation.allowed_lateness`). */
  latenessMs: number;
  /** Hits retained per group at most; the oldest beyond are dropped and counted. */
  maxHitsPerGroup: number;
  logger: Logger;
}

/** Optimistic-concurrency rounds before the batch is handed back to the queue for a retry. */
const MAX_ROUNDS = 50;

interface PendingGroup {
  correlation: CompiledCorrelation;
  storeKey: string;
  groupKey: string;
  groupBy: Record<string, string>;
  hits: WindowHit[];
}

/** What the correlator needs from a rule set, computed once per rule set (rules reload at run time). */
interface Plan {
  correlations: CompiledCorrelation[];
  byRule: Map<string, CompiledCorrelation[]>;
  correlationIds: Set<string>;
  /** Correlations the rules engine marks `generate: false`: their firings open no incident. */
  silent: Set<string>;
  /** Correlations by dependency depth: those on detection rules only, then those on the previous level... */
  levels: CompiledCorrelation[][];
}

const plans = new WeakMap<RuleSet, Plan>();

function planOf(ruleSet: RuleSet): Plan {
  let plan = plans.get(ruleSet);
  if (plan) return plan;
  const correlations = ruleSet.correlations ?? [];
  const byRule = new Map<string, CompiledCorrelation[]>();
  const correlationIds = new Set(correlations.map((c) => c.info.id));
  for (const correlation of correlations) {
    for (const ruleId of new Set(correlation.ruleIds)) {
      const list = byRule.get(ruleId) ?? [];
      list.push(correlation);
      byRule.set(ruleId, list);
    }
  }
  // The rules engine decides what generates (it marks `generate: false` on RuleInfo); today it marks only
  // detection rules, so a correlation referenced by another still opens its own incidents.
  const silent = new Set(correlations.filter((c) => c.info.generate === false).map((c) => c.info.id));
  // `correlations` comes in dependency order, so a referenced correlation's depth is known before its user's.
  const depth = new Map<string, number>();
  const levels: CompiledCorrelation[][] = [];
  for (const correlation of correlations) {
    const level = Math.max(-1, ...correlation.ruleIds.map((id) => depth.get(id) ?? -1)) + 1;
    depth.set(correlation.info.id, level);
    if (!levels[level]) levels[level] = [];
    levels[level]!.push(correlation);
  }
  plan = { correlations, byRule, correlationIds, silent, levels };
  plans.set(ruleSet, plan);
  return plan;
}

export class Correlator {
  constructor(
    private readonly store: CorrelationStateStore,
    private readonly options: CorrelatorOptions,
  ) {}

  /** Whether a rule feeds any correlation of the set (its matches must reach `correlate`). */
  static listensTo(ruleSet: RuleSet, ruleId: string): boolean {
    return planOf(ruleSet).byRule.has(ruleId);
  }

  async correlate(
    ruleSet: RuleSet,
    matches: RuleMatchOnEvent[],
    batchId: string,
  ): Promise<CorrelationOutput> {
    const output: CorrelationOutput = { detections: [], silent: new Set(), lateEventIds: new Set() };
    const plan = planOf(ruleSet);
    if (plan.correlations.length === 0) return output;

    // Hits per correlation, in batch order; chained correlations receive firings as they happen.
    const pending = new Map<string, Map<string, PendingGroup>>();
    const addHit = (
      correlation: CompiledCorrelation,
      ruleId: string,
      event: unknown,
      hit: Omit<WindowHit, 'rule' | 'value'>,
    ) => {
      const readers = correlation.groupReaders.get(ruleId);
      if (!readers) return;
      const values: string[] = [];
      for (const reader of readers) {
        const value = reader.read(event);
        if (value === undefined) return; // lacking a group-by value: not counted (as the reference)
        values.push(value);
      }
      let value: string | undefined;
      const valueReader = correlation.valueReaders.get(ruleId);
      if (valueReader) {
        value = valueReader.read(event);
        if (value === undefined) return;
      }
      const groupKey = JSON.stringify(values);
      let groups = pending.get(correlation.info.id);
      if (!groups) {
        groups = new Map();
        pending.set(correlation.info.id, groups);
      }
      let group = groups.get(groupKey);
      if (!group) {
        const groupBy: Record<string, string> = {};
        correlation.groupBy.forEach((name, i) => {
          groupBy[name] = values[i]!;
        });
        group = {
          correlation,
          storeKey: this.store.keyOf(correlation.info.id, groupKey),
          groupKey,
          groupBy,
          hits: [],
        };
        groups.set(groupKey, group);
      }
      const rule = correlation.ruleIds.indexOf(ruleId);
      // One literal per shape: a property added afterwards would give every retained hit (hundreds of
      // thousands at full rate) a separate property store.
      // Flattened, a retained hit's event id keeps its 22 characters, not the digest it was sliced from.
      const key = flatten(hit.key);
      const entry: WindowHit =
        value === undefined
          ? { time: hit.time, rule, key, agency: hit.agency }
          : { time: hit.time, rule, key, agency: hit.agency, value };
      if (hit.refs) entry.refs = hit.refs;
      if (hit.first !== undefined) entry.first = hit.first;
      group.hits.push(entry);
    };

    for (const { detection, event } of matches) {
      const correlations = plan.byRule.get(detection.ruleId);
      if (!correlations) continue;
      const time = Date.parse(detection.timestamp);
      // A window keeps its hits in time order and finds them by bisection: a hit without a time (NaN) has
      // no place in it. Flagged like a late event: indexed, not counted.
      if (!Number.isFinite(time)) {
        output.lateEventIds.add(event.event.id);
        continue;
      }
      for (const correlation of correlations) {
        addHit(correlation, detection.ruleId, event, { time, key: event.event.id, agency: detection.agency });
      }
    }

    // One read and one write round trip per dependency level, for all its correlations' groups together.
    for (const level of plan.levels) {
      const groups = level.flatMap((correlation) => [...(pending.get(correlation.info.id)?.values() ?? [])]);
      if (groups.length === 0) continue;
      const fired = await this.applyGroups(groups, output);
      for (const { group, firing } of fired) {
        const correlation = group.correlation;
        const detection = this.detectionOf(group, firing, plan, batchId);
        output.detections.push(detection);
        if (plan.silent.has(correlation.info.id)) output.silent.add(detection.id);
        const carried = nestGroupValues(group.groupBy);
        for (const outer of plan.byRule.get(correlation.info.id) ?? []) {
          addHit(outer, correlation.info.id, carried, {
            time: firing.time,
            key: detection.id,
            agency: detection.agency,
            refs: detection.eventIds,
            first: Date.parse(detection.firstSeen!),
          });
        }
      }
    }
    return output;
  }

  /** Applies every group's hits with compare-and-set, re-reading and re-applying the groups that lost a race. */
  private async applyGroups(
    groups: PendingGroup[],
    output: CorrelationOutput,
  ): Promise<{ group: PendingGroup; firing: Firing }[]> {
    for (const group of groups) sortStable(group.hits);
    const fired: { group: PendingGroup; firing: Firing }[] = [];
    let remaining = groups;
    for (let round = 1; remaining.length > 0; round++) {
      if (round > MAX_ROUNDS) {
        throw new Error(`correlation state: gave up after ${MAX_ROUNDS} concurrent-update conflicts`);
      }
      const stored = await this.store.read(remaining.map((g) => g.storeKey));
      const outcomes = remaining.map((group, i) =>
        applyToGroup(
          group.correlation,
          stored[i]?.state ?? null,
          group.hits,
          this.options.latenessMs,
          this.options.maxHitsPerGroup,
        ),
      );
      const writes: GroupWrite[] = remaining.map((group, i) => ({
        key: group.storeKey,
        expected: stored[i]?.version ?? 0,
        state: outcomes[i]!.state,
        ttlMs: group.correlation.timespanMs + this.options.latenessMs,
        previous: stored[i] ?? null,
      }));
      const written = await this.store.write(writes);
      const retry: PendingGroup[] = [];
      remaining.forEach((group, i) => {
        if (!written[i]) {
          retry.push(group);
          return;
        }
        const outcome = outcomes[i]!;
        for (const hit of outcome.late) if (!hit.refs) output.lateEventIds.add(hit.key);
        if (outcome.evicted > 0) {
          this.options.logger.warn(
            { rule: group.correlation.info.id, evicted: outcome.evicted },
            'correlation group at its hit cap: oldest hits dropped',
          );
        }
        for (const firing of outcome.firings) fired.push({ group, firing });
      });
      remaining = retry;
    }
    return fired;
  }

  private detectionOf(group: PendingGroup, firing: Firing, plan: Plan, batchId: string): Detection {
    const { correlation } = group;
    const eventIds = new Set<string>();
    const detectionIds: string[] = [];
    const agencies = new Set<string>();
    let first = Number.POSITIVE_INFINITY;
    for (const hit of firing.hits) {
      first = Math.min(first, hit.first ?? hit.time);
      for (const ref of hit.refs ?? [hit.key]) eventIds.add(ref);
      const ruleId = correlation.ruleIds[hit.rule]!;
      detectionIds.push(plan.correlationIds.has(ruleId) ? hit.key : detectionIdOf(ruleId, hit.key));
      agencies.add(hit.agency);
    }
    const agencyList = [...agencies].sort();
    const info = correlation.info;
    return {
      id: digest('correlation', info.id, group.groupKey, firing.completedBy),
      ruleId: info.id,
      ruleTitle: info.title,
      level: info.level,
      tags: info.tags,
      ...(info.author ? { author: info.author } : {}),
      ...(info.link ? { ruleLink: info.link } : {}),
      eventIds: [...eventIds],
      groupBy: group.groupBy,
      agency: agencyList.length === 1 ? agencyList[0]! : PROVINCE_AGENCY,
      timestamp: new Date(firing.time).toISOString(),
      batchId,
      // The earliest event behind it (through chained correlations too): when the attack began.
      firstSeen: new Date(first).toISOString(),
      detectionIds,
      agencies: agencyList,
      correlation: { type: correlation.type, value: firing.value },
    };
  }
}

/** Sorts hits by event time, keeping batch order among equal times (as the reference keeps arrival order). */
function sortStable(hits: WindowHit[]): void {
  hits.sort((a, b) => a.time - b.time);
}
