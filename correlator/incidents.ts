import { randomUUID } from 'node:crypto';
import { digest } from '../core/identity.js';
import type { Logger } from '../core/logger.js';
import {
  CLOSED_STATUSES,
  type Detection,
  type Incident,
  type Severity,
  type SigmaLevel,
} from '../core/model.js';
import type { IncidentStore } from '../core/ports.js';

export interface IncidentPolicy {
  /** A detection joins an open incident with the same key last seen within this many ms. */
  suppressionWindowMs: number;
}

/** Bounded lists kept on the incident document (the full sets live in the detections store). */
const MAX_EVIDENCE = 100;
const MAX_APPLIED_BATCHES = 64;
/** Optimistic-concurrency retries before giving up (the batch is then retried by the queue). */
const MAX_ATTEMPTS = 20;

const SEVERITY_OF_LEVEL: Record<SigmaLevel, Severity> = {
  informational: 'low',
  low: 'low',
  medium: 'medium',
  high: 'high',
  critical: 'critical',
};

/** Rule + group-by values + agency: what makes two detections "the same thing happening again". */
export function dedupKeyOf(detection: Detection): string {
  const groups = Object.keys(detection.groupBy)
    .sort()
    .map((field) => `${field}=${detection.groupBy[field]}`)
    .join('&');
  return `${detection.agency}|${detection.ruleId}|${groups}`;
}

/**
 * Turns detections into incidents. Safe with any number of concurrent workers: every write carries the
 * version it read and is retried on conflict; and idempotent: a batch re-delivered after a crash finds its
 * id in `appliedBatches` and changes nothing.
 */
export class IncidentWriter {
  constructor(
    private readonly store: IncidentStore,
    private readonly policy: IncidentPolicy,
    private readonly logger: Logger,
  ) {}

  /** Applies a batch's detections: one incident write per dedup key, not one per detection. */
  async apply(detections: Detection[]): Promise<void> {
    if (detections.length === 0) return;
    await this.store.addDetections(detections);
    const byKey = new Map<string, Detection[]>();
    for (const detection of detections) {
      const key = dedupKeyOf(detection);
      const group = byKey.get(key);
      if (group) group.push(detection);
      else byKey.set(key, [detection]);
    }
    for (const [key, group] of byKey) await this.applyToKey(key, group);
  }

  private async applyToKey(key: string, detections: Detection[]): Promise<void> {
    const batchId = detections[0]!.batchId;
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const pointer = await this.store.getDedupPointer(key);
      const current = pointer ? await this.store.get(pointer.value) : null;
      if (pointer && !current) {
        // The pointer names an incident not written yet: another writer is creating it right now, or crashed
        // between moving the pointer and creating it. Either way, create it under that id with our
        // detections; whoever loses the create merges into it on the next turn. The pointer never moves
        // away from a missing incident, so concurrent writers cannot open two.
        if ((await this.store.create(open(key, detections, pointer.value))) === 'ok') return;
        continue;
      }
      if (current?.value.appliedBatches.includes(batchId)) return;
      if (current && this.accepts(current.value, detections)) {
        if ((await this.store.update(merge(current.value, detections), current.version)) === 'ok') return;
        continue;
      }
      // No incident for this key, or the last one is closed or outside the window: open a new one.
      const incident = open(key, detections, digest('incident', key, randomUUID()));
      if (
        (await this.store.setDedupPointer(key, incident.id, pointer ? pointer.version : null)) === 'conflict'
      ) {
        continue;
      }
      if ((await this.store.create(incident)) === 'ok') {
        this.logger.info({ incident: incident.id, rule: incident.ruleId, key }, 'incident opened');
        return;
      }
      // Another writer filled in the incident we pointed at: merge into it on the next turn.
    }
    throw new Error(`incident for ${key}: gave up after ${MAX_ATTEMPTS} concurrent-update conflicts`);
  }

  private accepts(incident: Incident, detections: Detection[]): boolean {
    if (CLOSED_STATUSES.includes(incident.status)) return false;
    const first = Math.min(...detections.map((d) => Date.parse(d.timestamp)));
    return first - Date.parse(incident.lastSeen) <= this.policy.suppressionWindowMs;
  }
}

function open(key: string, detections: Detection[], id: string): Incident {
  const first = detections[0]!;
  const now = new Date().toISOString();
  const groupText = Object.entries(first.groupBy)
    .map(([field, value]) => `${field} ${value}`)
    .join(', ');
  const base: Incident = {
    id,
    title: groupText ? `${first.ruleTitle} — ${groupText}` : first.ruleTitle,
    severity: SEVERITY_OF_LEVEL[first.level],
    status: 'new',
    agency: first.agency,
    assignee: null,
    ruleId: first.ruleId,
    ruleTitle: first.ruleTitle,
    ...(first.author ? { ruleAuthor: first.author } : {}),
    ...(first.ruleLink ? { ruleLink: first.ruleLink } : {}),
    tactics: [],
    techniques: [],
    dedupKey: key,
    groupBy: first.groupBy,
    firstSeen: first.timestamp,
    lastSeen: first.timestamp,
    detectionCount: 0,
    evidenceEventIds: [],
    appliedBatches: [],
    tags: [],
    createdAt: now,
    updatedAt: now,
    timeline: [{ at: now, actor: 'system', action: 'opened', detail: { rule: first.ruleId } }],
  };
  return merge(base, detections);
}

/** Adds a batch's detections to an incident (pure). */
function merge(incident: Incident, detections: Detection[]): Incident {
  let firstSeen = incident.firstSeen;
  let lastSeen = incident.lastSeen;
  const evidence = [...incident.evidenceEventIds];
  const tactics = new Set(incident.tactics);
  const techniques = new Set(incident.techniques);
  for (const detection of detections) {
    if (detection.timestamp < firstSeen) firstSeen = detection.timestamp;
    if (detection.timestamp > lastSeen) lastSeen = detection.timestamp;
    evidence.push(...detection.eventIds);
    for (const tag of detection.tags) {
      const attack = attackOf(tag);
      if (attack?.kind === 'tactic') tactics.add(attack.name);
      if (attack?.kind === 'technique') techniques.add(attack.name);
    }
  }
  return {
    ...incident,
    firstSeen,
    lastSeen,
    detectionCount: incident.detectionCount + detections.length,
    evidenceEventIds: evidence.slice(-MAX_EVIDENCE),
    appliedBatches: [...incident.appliedBatches, detections[0]!.batchId].slice(-MAX_APPLIED_BATCHES),
    tactics: [...tactics],
    techniques: [...techniques],
    updatedAt: new Date().toISOString(),
  };
}

/** Sigma ATT&CK tags: `attack.t1110.001` is a technique, `attack.credential_access` a tactic. */
function attackOf(tag: string): { kind: 'tactic' | 'technique'; name: string } | undefined {
  if (!tag.startsWith('attack.')) return undefined;
  const name = tag.slice('attack.'.length);
  if (/^t\d{4}(\.\d{3})?$/i.test(name)) return { kind: 'technique', name: name.toUpperCase() };
  if (/^g\d{4}$|^s\d{4}$/i.test(name)) return undefined; // groups and software are not tactics
  return { kind: 'tactic', name };
}
