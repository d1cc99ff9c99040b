import { digest } from '../core/identity.js';
import type { Detection, SecurityEvent } from '../core/model.js';
import type { RuleSet } from '../rules/index.js';

export interface DetectOptions {
  /** ECS fields whose values group detections into incidents, when present on the event. */
  groupBy: string[];
}

/** Reads a dotted ECS field from a nested event (`source.ip` → event.source.ip). */
export function fieldValue(event: SecurityEvent, dotted: string): unknown {
  let node: unknown = event;
  for (const part of dotted.split('.')) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

/** The match stage: SecurityEvent[] → Detection[] (one per rule hit; ids deterministic for idempotency). */
export function detect(
  events: SecurityEvent[],
  ruleSet: RuleSet,
  batchId: string,
  options: DetectOptions,
): Detection[] {
  const detections: Detection[] = [];
  for (const event of events) {
    const matches = ruleSet.match(event);
    if (matches.length === 0) continue;
    const groupBy: Record<string, string> = {};
    for (const field of options.groupBy) {
      const value = fieldValue(event, field);
      if (value !== undefined && value !== null && typeof value !== 'object') groupBy[field] = String(value);
    }
    for (const { rule } of matches) {
      detections.push({
        id: digest('detection', rule.id, event.event.id),
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
      });
    }
  }
  return detections;
}
