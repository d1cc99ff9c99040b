import { randomUUID } from 'node:crypto';
import { digest } from '../core/identity.js';
import type { Logger } from '../core/logger.js';
import {
  CLOSED_STATUSES,
  type Detection,
  type Incident,
  type Severity,
  type SigmaLevel,
  type Versioned,
} from '../core/model.js';
import type { IncidentChange, IncidentStore, IncidentWrite } from '../core/ports.js';
import type { Escalation } from './escalation.js';

export interface IncidentPolicy {
  /** A detection joins an open incident with the same key last seen within this many ms. */
  suppressionWindowMs: number;
  /**
   * A detection for a key whose incident was resolved (within the suppression window): `reopen` it, or
   * open a new incident `link`ed to it (config `incidents.on_recurrence`). A false positive is never
   * reopened: a recurrence opens a new, linked incident.
   */
  onRecurrence?: 'reopen' | 'link';
}

/** Bounded lists kept on the incident document (the full sets live in the detections store). */
const MAX_EVIDENCE = 100;
const MAX_LINKED_DETECTIONS = 200;
const MAX_APPLIED_BATCHES = 64;
/** Optimistic-concurrency retries before giving up (the batch is then retried by the queue). */
const MAX_ATTEMPTS = 20;
/** Dedup keys applied at once per batch. */
const KEY_CONCURRENCY = 16;

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

  private escalation?: Escalation;

  /** Raises severity when several rules hit the same entity (see escalation.ts). */
  withEscalation(escalation: Escalation): this {
    this.escalation = escalation;
    return this;
  }

  /**
   * Applies a batch's detections: one incident write per dedup key, not one per detection. `storeOnly`
   * detections are stored (evidence of correlations) but open no incident. Returns what changed.
   */
  async apply(detections: Detection[], storeOnly: Detection[] = []): Promise<IncidentChange[]> {
    // The detections are written while the incidents are worked out (their order does not matter: both
    // are idempotent); the batch is done when both are.
    const stored =
      detections.length + storeOnly.length > 0
        ? this.store.addDetections([...storeOnly, ...detections])
        : Promise.resolve();
    stored.catch(() => {}); // awaited below; this only keeps a failure from counting as unhandled meanwhile
    const byKey = new Map<string, Detection[]>();
    for (const detection of detections) {
      const key = dedupKeyOf(detection);
      const group = byKey.get(key);
      if (group) group.push(detection);
      else byKey.set(key, [detection]);
    }
    const changes = byKey.size === 0 ? [] : await this.applyToKeys(byKey);
    await stored;
    if (this.escalation && changes.length > 0)
      changes.push(...(await this.escalation.apply(changes.map((c) => c.incident))));
    return changes;
  }

  /**
   * Every key of the batch with one read of the pointers, one of the incidents and one write of all the
   * changes when the store has the batch forms; a key that meets a conflict (another writer got there
   * first) is then applied on its own, re-reading as often as it takes.
   */
  private async applyToKeys(byKey: Map<string, Detection[]>): Promise<IncidentChange[]> {
    const changes: IncidentChange[] = [];
    let remaining = [...byKey];
    const { store } = this;
    if (store.getDedupPointers && store.getMany && store.writeIncidents) {
      const keys = remaining.map(([key]) => key);
      const pointers = await store.getDedupPointers(keys);
      const ids = [...new Set(pointers.flatMap((pointer) => (pointer ? [pointer.value] : [])))];
      const found = ids.length > 0 ? await store.getMany(ids) : [];
      const incidents = new Map(ids.map((id, i) => [id, found[i] ?? null]));
      const writes: IncidentWrite[] = [];
      const planned: { key: string; group: Detection[]; change: IncidentChange }[] = [];
      const conflicts: [string, Detection[]][] = [];
      const touched = new Set<string>();
      remaining.forEach(([key, group], i) => {
        const pointer = pointers[i] ?? null;
        if (pointer && touched.has(pointer.value)) {
          conflicts.push([key, group]); // two keys naming one incident: the second goes on its own
          return;
        }
        if (pointer) touched.add(pointer.value);
        const plan = this.plan(key, group, pointer, pointer ? (incidents.get(pointer.value) ?? null) : null);
        if (!plan) return;
        writes.push(plan.write);
        planned.push({ key, group, change: plan.change });
      });
      const outcomes = writes.length > 0 ? await store.writeIncidents(writes) : [];
      planned.forEach(({ key, group, change: planChange }, i) => {
        const written = outcomes[i];
        if (written?.outcome === 'ok') {
          if (planChange.kind === 'opened' && writes[i]!.kind === 'open') this.logOpened(planChange.incident);
          changes.push({ ...planChange, version: written.version });
        } else conflicts.push([key, group]);
      });
      remaining = conflicts;
    }
    // Keys are independent (each has its own pointer and version): apply several at once.
    for (let at = 0; at < remaining.length; at += KEY_CONCURRENCY) {
      const done = await Promise.all(
        remaining.slice(at, at + KEY_CONCURRENCY).map(([key, group]) => this.applyToKey(key, group)),
      );
      for (const change of done) if (change) changes.push(change);
    }
    return changes;
  }

  /**
   * What a key's detections do to the store, from its pointer and incident as read: the same decisions as
   * `applyToKey`'s first turn. Undefined when the batch was applied to the incident already.
   */
  private plan(
    key: string,
    detections: Detection[],
    pointer: Versioned<string> | null,
    current: Versioned<Incident> | null,
  ): { write: IncidentWrite; change: IncidentChange } | undefined {
    if (pointer && !current) {
      // The pointer names an incident not written yet (see applyToKey): create it under that id.
      const filled = open(key, detections, pointer.value);
      return { write: { kind: 'create', incident: filled }, change: change('opened', filled) };
    }
    if (current?.value.appliedBatches.includes(detections[0]!.batchId)) return undefined;
    const decision = current ? this.decide(current.value, detections) : 'open';
    if (current && decision !== 'open') {
      const merged = merge(current.value, detections);
      if (decision === 'reopen') reopen(merged);
      return {
        write: { kind: 'update', incident: merged, version: current.version },
        change: change(decision === 'reopen' ? 'reopened' : 'updated', merged),
      };
    }
    const incident = open(key, detections, digest('incident', key, randomUUID()));
    if (current && CLOSED_STATUSES.includes(current.value.status))
      incident.previousIncidentId = current.value.id;
    return {
      write: { kind: 'open', dedupKey: key, pointerVersion: pointer ? pointer.version : null, incident },
      change: change('opened', incident),
    };
  }

  private logOpened(incident: Incident): void {
    this.logger.info(
      { incident: incident.id, rule: incident.ruleId, key: incident.dedupKey },
      'incident opened',
    );
  }

  private async applyToKey(key: string, detections: Detection[]): Promise<IncidentChange | undefined> {
    const batchId = detections[0]!.batchId;
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const pointer = await this.store.getDedupPointer(key);
      const current = pointer ? await this.store.get(pointer.value) : null;
      if (pointer && !current) {
        // The pointer names an incident not written yet: another writer is creating it right now, or crashed
        // between moving the pointer and creating it. Either way, create it under that id with our
        // detections; whoever loses the create merges into it on the next turn. The pointer never moves
        // away from a missing incident, so concurrent writers cannot open two.
        const filled = open(key, detections, pointer.value);
        if ((await this.store.create(filled)) === 'ok') return change('opened', filled);
        continue;
      }
      if (current?.value.appliedBatches.includes(batchId)) return undefined;
      const decision = current ? this.decide(current.value, detections) : 'open';
      if (current && decision !== 'open') {
        const merged = merge(current.value, detections);
        if (decision === 'reopen') reopen(merged);
        if ((await this.store.update(merged, current.version)) === 'ok') {
          return change(decision === 'reopen' ? 'reopened' : 'updated', merged);
        }
        continue;
      }
      // No incident for this key, or the last one is closed or outside the window: open a new one.
      const incident = open(key, detections, digest('incident', key, randomUUID()));
      if (current && CLOSED_STATUSES.includes(current.value.status))
        incident.previousIncidentId = current.value.id;
      if (
        (await this.store.setDedupPointer(key, incident.id, pointer ? pointer.version : null)) === 'conflict'
      ) {
        continue;
      }
      if ((await this.store.create(incident)) === 'ok') {
        this.logOpened(incident);
        return change('opened', incident);
      }
      // Another writer filled in the incident we pointed at: merge into it on the next turn.
    }
    throw new Error(`incident for ${key}: gave up after ${MAX_ATTEMPTS} concurrent-update conflicts`);
  }

  /** Whether detections join the key's current incident, reopen it, or open a new one. */
  private decide(incident: Incident, detections: Detection[]): 'merge' | 'reopen' | 'open' {
    const first = Math.min(...detections.map((d) => Date.parse(d.firstSeen ?? d.timestamp)));
    const recent = first - Date.parse(incident.lastSeen) <= this.policy.suppressionWindowMs;
    if (!recent) return 'open';
    if (!CLOSED_STATUSES.includes(incident.status)) return 'merge';
    if (incident.status === 'resolved' && (this.policy.onRecurrence ?? 'reopen') === 'reopen')
      return 'reopen';
    return 'open';
  }
}

function change(kind: IncidentChange['kind'], incident: Incident): IncidentChange {
  return { kind, incident, actor: 'system', at: incident.updatedAt };
}

/** A resolved incident seen again: back to `new`, with the reason on its timeline. */
function reopen(incident: Incident): void {
  const previous = incident.status;
  incident.status = 'new';
  delete incident.closedAt;
  incident.timeline = [
    ...incident.timeline,
    {
      at: incident.updatedAt,
      actor: 'system',
      action: 'reopened',
      detail: { from: previous, reason: 'recurrence' },
    },
  ];
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
    firstSeen: first.firstSeen ?? first.timestamp,
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
  const evidence = new Set(incident.evidenceEventIds);
  const linked = new Set(incident.linkedDetectionIds);
  const agencies = new Set(incident.agencies);
  const tactics = new Set(incident.tactics);
  const techniques = new Set(incident.techniques);
  for (const detection of detections) {
    const start = detection.firstSeen ?? detection.timestamp;
    if (start < firstSeen) firstSeen = start;
    if (detection.timestamp > lastSeen) lastSeen = detection.timestamp;
    for (const id of detection.eventIds) {
      evidence.delete(id); // most recent last
      evidence.add(id);
    }
    for (const id of detection.detectionIds ?? []) linked.add(id);
    for (const agency of detection.agencies ?? []) agencies.add(agency);
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
    evidenceEventIds: [...evidence].slice(-MAX_EVIDENCE),
    ...(linked.size > 0 ? { linkedDetectionIds: [...linked].slice(-MAX_LINKED_DETECTIONS) } : {}),
    ...(agencies.size > 1 ? { agencies: [...agencies].sort() } : {}),
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
