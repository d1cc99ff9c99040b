import { detectionIdOf } from '../core/identity.js';
import type { SecurityEvent } from '../core/model.js';
import type { RuleSet } from '../rules/index.js';
import type { RuleMatchOnEvent } from './correlation/correlate.js';

export interface DetectOptions {
  /** ECS fields whose values group detections into incidents, when present on the event. */
  groupBy: string[];
}

/** A detection rule's match, with whether it opens incidents on its own (Sigma `generate`). */
export interface MatchedDetection extends RuleMatchOnEvent {
  /** False for a rule that only feeds correlations (`generate: false`, Sigma's default for those). */
  generates: boolean;
}

/** Reads a dotted ECS field from a nested event (`source.ip` → event.source.ip). */
export function fieldValue(event: SecurityEvent, dotted: string): unknown {
  return valueAt(event, dotted.split('.'));
}

/** The value at a dotted field's path (its parts), or undefined. */
function valueAt(event: SecurityEvent, path: readonly string[]): unknown {
  let node: unknown = event;
  for (const part of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

/** The match stage: SecurityEvent[] → one Detection per rule hit (ids deterministic for idempotency). */
export function detect(
  events: SecurityEvent[],
  ruleSet: RuleSet,
  batchId: string,
  options: DetectOptions,
): MatchedDetection[] {
  const matched: MatchedDetection[] = [];
  // Split once per batch, not per matching event.
  const groupByPaths = options.groupBy.map((field) => field.split('.'));
  for (const event of events) {
    const matches = ruleSet.match(event);
    if (matches.length === 0) continue;
    const groupBy: Record<string, string> = {};
    for (let g = 0; g < groupByPaths.length; g++) {
      const field = options.groupBy[g]!;
      const value = valueAt(event, groupByPaths[g]!);
      if (value !== undefined && value !== null && typeof value !== 'object') groupBy[field] = String(value);
    }
    for (const { rule } of matches) {
      matched.push({
        event,
        generates: rule.generate !== false,
        detection: {
          id: detectionIdOf(rule.id, event.event.id),
          ruleId: rule.id,
          ruleTitle: rule.title,
          level: rule.level,
          tags: rule.tags,
          ...(rule.author ? { author: rule.author } : {}),
          ...(rule.link ? { ruleLink: rule.link } : {}),
          eventIds: [event.event.id],
          groupBy,
          agency: event.agency.id,
          timestamp: event['@timestamp'],
          batchId,
        },
      });
    }
  }
  return matched;
}
