/**
 * The incident life cycle, as pure functions over an Incident: which status changes are allowed, what each
 * change records on the timeline, and the response times it sets (time to acknowledge, time to resolve).
 *
 *   new → acknowledged → in_progress → resolved | false_positive        (forward jumps allowed)
 *   resolved | false_positive → new | acknowledged | in_progress        (reopen)
 */
import { CLOSED_STATUSES, type Incident, type IncidentStatus, type Severity } from '../../core/model.js';

const ORDER: Record<IncidentStatus, number> = {
  new: 0,
  acknowledged: 1,
  in_progress: 2,
  resolved: 3,
  false_positive: 3,
};

/** Most recent timeline entries kept on the incident (the audit log keeps every one). */
export const MAX_TIMELINE = 500;

export class TransitionError extends Error {
  override readonly name = 'TransitionError';
}

export const isClosed = (status: IncidentStatus) => CLOSED_STATUSES.includes(status);

export function allowedTransition(from: IncidentStatus, to: IncidentStatus): boolean {
  if (from === to) return true;
  if (isClosed(from)) return !isClosed(to); // reopen; closed → closed goes through a reopen first
  return ORDER[to] > ORDER[from];
}

export interface IncidentChanges {
  status?: IncidentStatus;
  /** `null` unassigns. */
  assignee?: string | null;
  severity?: Severity;
  /** Replaces the tag list. */
  tags?: string[];
  addTags?: string[];
  removeTags?: string[];
  /** Why: kept on the timeline entry. */
  reason?: string;
}

/** What the triage fields looked like, for the audit log's before/after. */
export function triageView(incident: Incident): Record<string, unknown> {
  return {
    status: incident.status,
    assignee: incident.assignee,
    severity: incident.severity,
    tags: incident.tags,
    ...(incident.mergedInto ? { mergedInto: incident.mergedInto } : {}),
  };
}

/**
 * Applies an analyst's changes (pure). Throws TransitionError on a status change the life cycle does not
 * allow. Returns the incident unchanged (same object) when nothing changes.
 */
export function applyChanges(
  incident: Incident,
  changes: IncidentChanges,
  actor: string,
  now: Date,
): Incident {
  const at = now.toISOString();
  const next: Incident = { ...incident };
  const entries: Incident['timeline'] = [];
  const reason = changes.reason ? { reason: changes.reason } : {};

  if (changes.status !== undefined && changes.status !== incident.status) {
    if (!allowedTransition(incident.status, changes.status)) {
      throw new TransitionError(`an incident cannot go from ${incident.status} to ${changes.status}`);
    }
    const reopening = isClosed(incident.status);
    next.status = changes.status;
    if (changes.status !== 'new' && !next.acknowledgedAt) {
      next.acknowledgedAt = at;
      next.timeToAcknowledgeMs = Math.max(0, now.getTime() - Date.parse(incident.createdAt));
    }
    if (isClosed(changes.status)) {
      next.closedAt = at;
      next.timeToResolveMs = Math.max(0, now.getTime() - Date.parse(incident.createdAt));
    } else if (reopening) {
      delete next.closedAt;
      delete next.timeToResolveMs;
    }
    entries.push({
      at,
      actor,
      action: reopening ? 'reopened' : 'status_changed',
      detail: { from: incident.status, to: changes.status, ...reason },
    });
  }
  if (changes.assignee !== undefined && changes.assignee !== incident.assignee) {
    next.assignee = changes.assignee;
    entries.push({
      at,
      actor,
      action: 'assigned',
      detail: { from: incident.assignee, to: changes.assignee },
    });
  }
  if (changes.severity !== undefined && changes.severity !== incident.severity) {
    next.severity = changes.severity;
    entries.push({
      at,
      actor,
      action: 'severity_changed',
      detail: { from: incident.severity, to: changes.severity, ...reason },
    });
  }
  let tags = changes.tags !== undefined ? [...new Set(changes.tags)] : [...incident.tags];
  if (changes.addTags) tags = [...new Set([...tags, ...changes.addTags])];
  if (changes.removeTags) tags = tags.filter((tag) => !changes.removeTags!.includes(tag));
  if (tags.length !== incident.tags.length || tags.some((tag, i) => tag !== incident.tags[i])) {
    next.tags = tags;
    entries.push({ at, actor, action: 'tags_changed', detail: { from: incident.tags, to: tags } });
  }
  if (entries.length === 0) return incident;
  next.timeline = [...incident.timeline, ...entries].slice(-MAX_TIMELINE);
  next.updatedAt = at;
  return next;
}

const MAX_EVIDENCE = 100;

/**
 * Merges `source` into `target` (pure): counts add up, times widen, evidence, ATT&CK and tags are unioned,
 * notes are carried over. Returns the new target and the closed source pointing at it.
 */
export function mergeIncidents(
  target: Incident,
  source: Incident,
  actor: string,
  now: Date,
): { target: Incident; source: Incident } {
  const at = now.toISOString();
  const union = (a: string[], b: string[]) => [...new Set([...a, ...b])];
  const mergedTarget: Incident = {
    ...target,
    firstSeen: [source.firstSeen, target.firstSeen].sort()[0]!,
    lastSeen: [source.lastSeen, target.lastSeen].sort()[1]!,
    detectionCount: target.detectionCount + source.detectionCount,
    evidenceEventIds: union(target.evidenceEventIds, source.evidenceEventIds).slice(-MAX_EVIDENCE),
    tactics: union(target.tactics, source.tactics),
    techniques: union(target.techniques, source.techniques),
    tags: union(target.tags, source.tags),
    notes: [...(target.notes ?? []), ...(source.notes ?? [])],
    timeline: [
      ...target.timeline,
      { at, actor, action: 'merged', detail: { from: source.id, detections: source.detectionCount } },
    ].slice(-MAX_TIMELINE),
    updatedAt: at,
  };
  const closedSource = applyChanges(
    source,
    { status: isClosed(source.status) ? source.status : 'resolved', reason: `merged into ${target.id}` },
    actor,
    now,
  );
  return {
    target: mergedTarget,
    source: {
      ...closedSource,
      mergedInto: target.id,
      timeline: [
        ...closedSource.timeline,
        { at, actor, action: 'merged_into', detail: { into: target.id } },
      ].slice(-MAX_TIMELINE),
      updatedAt: at,
    },
  };
}
