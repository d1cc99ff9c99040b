/**
 * The shared vocabulary of siem-lite: what flows between the stages.
 *
 *   RawRecord[] ──normalise──▶ SecurityEvent[] ──match──▶ Detection[] ──incidents──▶ Incident
 *
 * Every stage takes one of these types and returns the next, so the pipeline reads like its data flow.
 */

/** How a record reached us. */
export type Transport = 'udp' | 'tcp' | 'tls' | 'http' | 'file';

/** A record exactly as received, before any parsing. Immutable once created. */
export interface RawRecord {
  /** The bytes as text (UTF-8, invalid sequences replaced). Never trimmed beyond framing. */
  text: string;
  /** Receive time, epoch milliseconds. */
  receivedAt: number;
  transport: Transport;
  /** Peer address as `ip` or `ip:port`; empty for local sources. */
  peer: string;
  /** Listener that received it (from config), e.g. `syslog-udp`. */
  listener: string;
  /** Agency attributed at the edge (token, certificate or address), if known. */
  agency?: string;
  /**
   * Monotonic per-process sequence assigned at receipt. Together with the other fields it makes the
   * record's identity, so two identical lines in the same millisecond stay two events, while a
   * re-delivered batch (same records) maps to the same event ids.
   */
  seq: number;
  /** Flags set at the edge, e.g. `truncated`. */
  flags?: string[];
  /** Hint from the listener for which source parser to use (e.g. `json`, `fortigate`). */
  parser?: string;
}

/** A batch of raw records as queued between ingest and the workers. */
export interface RecordBatch {
  /** Unique per batch; lets stages make their effects idempotent when a batch is re-delivered. */
  id: string;
  records: RawRecord[];
}

/**
 * An ECS document. Nested objects follow ECS (`source.ip` is `{source: {ip}}`); only the fields the
 * pipeline reads are typed, the rest stays open.
 */
export interface SecurityEvent {
  '@timestamp': string;
  message?: string;
  event: {
    id: string;
    ingested: string;
    original: string;
    kind?: string;
    category?: string[];
    type?: string[];
    action?: string;
    outcome?: 'success' | 'failure' | 'unknown';
    dataset?: string;
    module?: string;
    code?: string;
    severity?: number;
    [key: string]: unknown;
  };
  agency: { id: string };
  tags?: string[];
  [key: string]: unknown;
}

export type SigmaLevel = 'informational' | 'low' | 'medium' | 'high' | 'critical';
export type Severity = 'low' | 'medium' | 'high' | 'critical';

/** A rule hit on one event (detection rule) or on a window of hits (correlation rule). */
export interface Detection {
  /** Deterministic: hash of rule id and the matched event id(s), so re-delivery does not duplicate. */
  id: string;
  ruleId: string;
  ruleTitle: string;
  level: SigmaLevel;
  tags: string[];
  author?: string;
  ruleLink?: string;
  eventIds: string[];
  /** Values of the grouping fields, e.g. `{ 'source.ip': '203.0.113.5' }`. */
  groupBy: Record<string, string>;
  agency: string;
  /** Event time of the (last) matched event, ISO 8601. */
  timestamp: string;
  /** Id of the batch that produced it (idempotency of incident updates). */
  batchId: string;
  /** Correlation hits: event time of the earliest hit in the window, ISO 8601 (`timestamp` is the last). */
  firstSeen?: string;
  /** Correlation hits: ids of the detections that built it (the chain an analyst follows to see "why"). */
  detectionIds?: string[];
  /** Correlation hits: every agency whose events took part (`agency` is `province` when several did). */
  agencies?: string[];
  /** Correlation hits: the type and the measured value (a count, distinct values, a metric). */
  correlation?: { type: string; value: number };
}

export const INCIDENT_STATUSES = [
  'new',
  'acknowledged',
  'in_progress',
  'resolved',
  'false_positive',
] as const;
export type IncidentStatus = (typeof INCIDENT_STATUSES)[number];
export const CLOSED_STATUSES: readonly IncidentStatus[] = ['resolved', 'false_positive'];

export interface TimelineEntry {
  at: string;
  actor: string;
  action: string;
  detail?: Record<string, unknown>;
}

export interface Incident {
  id: string;
  title: string;
  severity: Severity;
  status: IncidentStatus;
  agency: string;
  assignee: string | null;
  ruleId: string;
  ruleTitle: string;
  ruleAuthor?: string;
  ruleLink?: string;
  tactics: string[];
  techniques: string[];
  /** Rule + group-by values + agency: detections with the same key join the same open incident. */
  dedupKey: string;
  groupBy: Record<string, string>;
  firstSeen: string;
  lastSeen: string;
  detectionCount: number;
  /** Most recent evidence event ids (bounded; the full set is in the detections store). */
  evidenceEventIds: string[];
  /** Batches already applied (bounded, most recent last): re-delivery of one of them is a no-op. */
  appliedBatches: string[];
  /** Correlation incidents: the detections that built them (bounded, most recent last). */
  linkedDetectionIds?: string[];
  /** Correlation incidents spanning agencies: every agency involved (`agency` is then `province`). */
  agencies?: string[];
  /** The incident this one follows, when a recurrence after resolution opened a linked incident. */
  previousIncidentId?: string;
  /** Set when severity was raised because several rules hit the same entity (once per incident). */
  escalation?: { at: string; entity: string; rules: string[]; from: Severity };
  tags: string[];
  createdAt: string;
  updatedAt: string;
  timeline: TimelineEntry[];
  /** Analyst notes, oldest first (added through the API). */
  notes?: IncidentNote[];
  /** First time it left `new` (acknowledged or later); set once, kept across reopen. */
  acknowledgedAt?: string;
  /** When it was last closed (resolved or false positive); removed on reopen. */
  closedAt?: string;
  /** `acknowledgedAt - createdAt` in ms, stored so both stores can average it (MTTA). */
  timeToAcknowledgeMs?: number;
  /** `closedAt - createdAt` in ms (MTTR). */
  timeToResolveMs?: number;
  /** Set on the incident merged away: the incident that absorbed it. */
  mergedInto?: string;
}

/**
 * What a list of incidents carries for each one (`GET /api/incidents`, issue 7): the fields a triage table
 * shows, filters, sorts or links on, without the growing parts (timeline, notes, evidence and detection
 * ids, applied batches), which made a 50-incident page some 340 KB. The whole incident is one GET away.
 */
export const INCIDENT_LIST_FIELDS = [
  'id',
  'title',
  'severity',
  'status',
  'agency',
  'assignee',
  'ruleId',
  'ruleTitle',
  'tactics',
  'techniques',
  'groupBy',
  'firstSeen',
  'lastSeen',
  'detectionCount',
  'tags',
  'createdAt',
  'updatedAt',
  'acknowledgedAt',
  'closedAt',
  'timeToAcknowledgeMs',
  'timeToResolveMs',
  'mergedInto',
  'previousIncidentId',
  'agencies',
] as const satisfies readonly (keyof Incident)[];

export type IncidentListField = (typeof INCIDENT_LIST_FIELDS)[number];

/**
 * The fields a list leaves out, each named (a new field of Incident does not compile until it is put on one
 * side or the other): stores that cannot pick fields cheaply remove these instead.
 */
export const INCIDENT_LIST_OMITTED: Record<Exclude<keyof Incident, IncidentListField>, true> = {
  ruleAuthor: true,
  ruleLink: true,
  dedupKey: true,
  evidenceEventIds: true,
  appliedBatches: true,
  linkedDetectionIds: true,
  escalation: true,
  timeline: true,
  notes: true,
};

/** One incident in a list: its list fields and the version it is stored at (send it back with PATCH). */
export type IncidentListItem = Pick<Incident, IncidentListField> & { version: string };

export interface IncidentNote {
  id: string;
  at: string;
  author: string;
  text: string;
}

/** A stored document with the version it was read at (optimistic concurrency). */
export interface Versioned<T> {
  value: T;
  /** Opaque to callers: `seq_no:primary_term` in Elasticsearch, an integer column in SQLite. */
  version: string;
}
