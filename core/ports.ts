/**
 * Ports: the interfaces between stages and their infrastructure. Each has two adapters, one per mode
 * (scale: Elasticsearch / BullMQ on Redis; embedded: SQLite / in-process), and the same contract tests.
 */
import type {
  Detection,
  Incident,
  IncidentListItem,
  IncidentStatus,
  RecordBatch,
  SecurityEvent,
  Severity,
  Versioned,
} from './model.js';

/** Between ingest (producer) and the workers (consumer). Jobs carry whole batches. */
export interface RecordQueue {
  /** Resolves once the batch is durably queued (scale) or accepted (embedded). */
  enqueue(batch: RecordBatch): Promise<void>;
  /** True when producers should stop reading (TCP) or answer 429/503 (HTTP). */
  saturated(): boolean;
  /** Batches waiting or in flight. */
  depth(): Promise<number>;
  /** Epoch ms at which the oldest batch still waiting for a worker was queued; null when none waits. */
  oldestWaitingAt?(): Promise<number | null>;
  close(): Promise<void>;
}

export type BatchHandler = (batch: RecordBatch) => Promise<void>;

/** The worker side of the queue. */
export interface RecordConsumer {
  start(handler: BatchHandler): Promise<void>;
  /** Finishes in-flight batches (or returns them to the queue), then stops. */
  close(): Promise<void>;
}

export interface TimeRange {
  /** Inclusive, ISO 8601 or epoch ms. */
  from?: string | number;
  /** Exclusive. */
  to?: string | number;
}

export interface EventSearch {
  /** Agencies the caller may see; `undefined` = all (province-wide roles). Always applied server-side. */
  agencies?: string[];
  time?: TimeRange;
  /** Exact-match filters on ECS fields (dotted names). */
  filters?: Record<string, string | number | boolean>;
  /** Analyst query language (docs/query-language.md), ANDed with the filters; errors are StoreQueryError. */
  query?: string;
  /** A compiled Sigma detection rule (hunting), ANDed with the rest; each store takes its own backend's form. */
  rule?: RuleCondition;
  limit?: number;
  /** Opaque cursor from a previous page. */
  after?: string;
}

/**
 * A Sigma rule compiled for the stores (rules/ backends): Elasticsearch query DSL or a parameterised SQL
 * condition over the embedded `events` table. Built lazily, so a store only pays for its own form.
 */
export interface RuleCondition {
  elasticsearch(): unknown;
  sql(): { where: string; params: (string | number | null)[] };
}

export interface EventPage {
  events: SecurityEvent[];
  total: number;
  next?: string;
}

export interface IndexResult {
  indexed: number;
  /** Already present (re-delivery). */
  duplicates: number;
  /** Rejected documents sent to the dead-letter store, with reasons. */
  deadLettered: number;
}

export interface EventStore {
  /** Creates indices/templates/tables. Idempotent. */
  init(): Promise<void>;
  /** Writes events with `event.id` as identity: a re-delivered event is counted as a duplicate, not written twice. */
  index(events: SecurityEvent[]): Promise<IndexResult>;
  search(search: EventSearch): Promise<EventPage>;
  count(search: EventSearch): Promise<number>;
  /** Makes recent writes visible to search (tests, hunts). */
  refresh(): Promise<void>;
  close(): Promise<void>;
  /** Most frequent values of a field among the matching events (a document counts once per value). */
  topValues?(search: EventSearch, field: string, size?: number): Promise<TopValues>;
  /** Events per time bucket over `search.time` (required), optionally split by a field's top values. */
  histogram?(search: EventSearch, options?: HistogramOptions): Promise<Histogram>;
  /** Distinct values of a field (exact in SQLite; in ES exact below 40,000 values, then approximate). */
  distinctCount?(search: EventSearch, field: string): Promise<number>;
  /** Last event time and count per value of a field, by value (silent-source detection). */
  lastSeenBy?(search: EventSearch, field: string, size?: number): Promise<LastSeen[]>;
  /**
   * Retention: deletes every event of the UTC days entirely before `cutoff`'s day (whole daily indices in
   * Elasticsearch, the same rows in SQLite), so both stores keep exactly the same days.
   */
  deleteBefore?(cutoff: string | number): Promise<RetentionResult>;
}

export interface ValueCount {
  /** Keyword text, number, or IP address text. */
  key: string | number;
  count: number;
}

export interface TopValues {
  buckets: ValueCount[];
  /** Events counted for values beyond the top N. */
  other: number;
}

export interface HistogramOptions {
  /** Bucket width like `5m`, `1h`, `1d`; default: chosen from the range for about `targetBuckets`. */
  interval?: string;
  targetBuckets?: number;
  /** Per bucket, the counts of this field's top values. */
  splitBy?: { field: string; size?: number };
}

export interface HistogramBucket {
  /** Bucket start, ISO 8601 UTC (buckets are aligned to the epoch). */
  start: string;
  count: number;
  split?: ValueCount[];
}

export interface Histogram {
  interval: string;
  intervalMs: number;
  /** Every bucket of the range, empty ones included. */
  buckets: HistogramBucket[];
}

export interface RetentionResult {
  /** Days removed, `YYYY-MM-DD`. */
  days: string[];
  events: number;
}

export interface LastSeen {
  key: string | number;
  /** Time of the newest matching event with this value, ISO 8601 UTC (milliseconds). */
  lastSeen: string;
  count: number;
}

export type WriteOutcome = 'ok' | 'conflict';

/**
 * One write of `IncidentStore.writeIncidents`: `ok` with the version the incident is now stored at (what a
 * later update or PATCH sends back), or `conflict`.
 */
export type BatchWriteOutcome = { outcome: 'ok'; version: string } | { outcome: 'conflict' };

export interface IncidentSearch {
  agencies?: string[];
  status?: IncidentStatus[];
  ruleId?: string;
  limit?: number;
}

/**
 * One write of `IncidentStore.writeIncidents`. `open` points the dedup key at the incident
 * (`setDedupPointer(dedupKey, incident.id, pointerVersion)`) and creates it: both or neither, `conflict`
 * when the pointer moved meanwhile or the id exists.
 */
export type IncidentWrite =
  | { kind: 'create'; incident: Incident }
  | { kind: 'update'; incident: Incident; version: string }
  | { kind: 'open'; dedupKey: string; pointerVersion: string | null; incident: Incident };

export interface DetectionSearch {
  agencies?: string[];
  ruleId?: string;
  /** Detections that matched this event. */
  eventId?: string;
  limit?: number;
}

/**
 * Incidents with optimistic concurrency. The dedup pointer (dedup key → current incident id) is a separate
 * versioned record, read in real time, so that concurrent workers agree on which incident a detection joins.
 */
export interface IncidentStore {
  init(): Promise<void>;
  get(id: string): Promise<Versioned<Incident> | null>;
  /** `conflict` if an incident with this id exists. */
  create(incident: Incident): Promise<WriteOutcome>;
  /** `conflict` if the stored version is not `version`. */
  update(incident: Incident, version: string): Promise<WriteOutcome>;
  getDedupPointer(dedupKey: string): Promise<Versioned<string> | null>;
  /** Creates the pointer (`version` null) or moves it; `conflict` on a lost race. */
  setDedupPointer(dedupKey: string, incidentId: string, version: string | null): Promise<WriteOutcome>;
  /** Detections are immutable and keyed by their deterministic id: writing one twice is a no-op. */
  addDetections(detections: Detection[]): Promise<void>;
  /** Optional batch forms (one round trip for a batch's keys); same answers as `getDedupPointer` each. */
  getDedupPointers?(dedupKeys: string[]): Promise<(Versioned<string> | null)[]>;
  /** Optional batch form of `get`. */
  getMany?(ids: string[]): Promise<(Versioned<Incident> | null)[]>;
  /**
   * Optional batch form of create / update / setDedupPointer + create: applies the writes in order, each
   * with its own outcome exactly as the single calls would give (one round trip, one transaction where the
   * store has them), and the version each incident written is stored at.
   */
  writeIncidents?(writes: IncidentWrite[]): Promise<BatchWriteOutcome[]>;
  /** Stored detections, newest first (incident evidence, audits). */
  listDetections?(search: DetectionSearch): Promise<Detection[]>;
  list(search: IncidentSearch): Promise<Incident[]>;
  refresh(): Promise<void>;
  close(): Promise<void>;
}

/** A change to an incident, as the live stream (SSE), webhooks and e-mail see it. */
export interface IncidentChange {
  kind: 'opened' | 'updated' | 'reopened' | 'status_changed' | 'assigned' | 'merged' | 'noted';
  incident: Incident;
  /**
   * The version `incident` is stored at (send it back with PATCH). Absent when it is not known to match:
   * the incident changed again before the notice went out (a later notice carries that state).
   */
  version?: string;
  /** Who made it: `system` for the pipeline, else the API key name. */
  actor: string;
  at: string;
}

/**
 * Incident changes fanned out to every process: Redis pub/sub in scale mode (an API process streams what a
 * worker changed), an in-memory emitter in embedded mode. Delivery is best-effort and live: a subscriber that
 * was away reads the store, not the feed.
 */
export interface ChangeFeed {
  publish(change: IncidentChange): Promise<void>;
  /** Returns an unsubscribe function. */
  subscribe(listener: (change: IncidentChange) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/** A batch that failed every attempt, kept for inspection and replay (never silently dropped). */
export interface DeadLetter {
  id: string;
  batch: RecordBatch;
  error: string;
  attempts: number;
  failedAt: string;
}

export interface DeadLetterQueue {
  list(limit: number): Promise<{ total: number; items: DeadLetter[] }>;
  /** Puts the batch back on the queue; false if there is no such dead letter. */
  replay(id: string): Promise<boolean>;
  /** Discards it after inspection (audited by the API). */
  discard(id: string): Promise<boolean>;
}

/** A Sigma rule or filter document as stored (uploaded through the API, or bundled). */
export interface StoredRule {
  id: string;
  /** The YAML text as written: the source of truth, compiled by rules/. */
  yaml: string;
  kind: 'detection' | 'correlation' | 'filter';
  enabled: boolean;
  /** `bundled` rules come from the packs on disk; `api` ones were uploaded or edited. */
  origin: 'bundled' | 'api';
  updatedAt: string;
  updatedBy: string;
  /** False-positive filters: the agency of the incident that made it (scoped analysts see their own only). */
  agency?: string;
  /** False-positive filters: the incident marked. */
  incidentId?: string;
}

/**
 * Rules and filters shared by every worker: changes made through the API apply to new events at once,
 * in every process (workers reload on `onChange`).
 */
export interface RuleRepository {
  init(): Promise<void>;
  list(): Promise<Versioned<StoredRule>[]>;
  get(id: string): Promise<Versioned<StoredRule> | null>;
  /** Create (`version` null) or replace; `conflict` on a stale version. */
  put(rule: StoredRule, version: string | null): Promise<WriteOutcome>;
  delete(id: string): Promise<boolean>;
  /** Fires (in every process) after any change; returns an unsubscribe function. */
  onChange(listener: () => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/** An API key as stored: the secret only as a salted scrypt hash (api/keys.ts does the hashing). */
export interface StoredApiKey {
  id: string;
  name: string;
  /** `admin`, `analyst`, `agency_analyst`, `ioc` or `ingest` (api/keys.ts). */
  role: string;
  /** Agencies the key is bound to; empty = province-wide. */
  agencies: string[];
  salt: string;
  hash: string;
  createdAt: string;
  createdBy?: string;
  revokedAt?: string;
}

/** API keys shared by every API process (an ES index in scale mode, a SQLite table embedded). */
export interface ApiKeyRepository {
  init(): Promise<void>;
  /** `conflict` if a key with this id exists. */
  create(key: StoredApiKey): Promise<WriteOutcome>;
  /** Read in real time (a revocation made by another process is seen at once). */
  get(id: string): Promise<StoredApiKey | null>;
  /** Every key, revoked ones too, oldest first. */
  list(): Promise<StoredApiKey[]>;
  /** Marks the key revoked; false if there is no such key or it was already revoked. */
  revoke(id: string, at: string): Promise<boolean>;
  close(): Promise<void>;
}

/** One audited mutation: who did what to which thing, with its state before and after. */
export interface AuditEntry {
  id: string;
  at: string;
  /** API key name (or `cli`, `system`). */
  actor: string;
  actorKeyId?: string;
  /** e.g. `incident.update`, `key.create`, `rule.delete`. */
  action: string;
  targetType: string;
  targetId: string;
  /** Agency of the target, when it has one. */
  agency?: string;
  before?: unknown;
  after?: unknown;
  requestId?: string;
}

export interface AuditSearch {
  actor?: string;
  action?: string;
  targetType?: string;
  targetId?: string;
  time?: TimeRange;
  limit?: number;
  /** Opaque cursor from a previous page. */
  after?: string;
}

/** The append-only audit trail, newest first when read. */
export interface AuditLog {
  init(): Promise<void>;
  append(entries: AuditEntry[]): Promise<void>;
  list(search: AuditSearch): Promise<{ entries: AuditEntry[]; next?: string }>;
  refresh(): Promise<void>;
  close(): Promise<void>;
}

export type IncidentSortField =
  | 'lastSeen'
  | 'firstSeen'
  | 'createdAt'
  | 'updatedAt'
  | 'severity'
  | 'detectionCount';

/** The analyst's incident list: every filter optional, ANDed; agency scope always applied. */
export interface IncidentQuery {
  /** `undefined` = all agencies; `[]` = none. */
  agencies?: string[];
  status?: IncidentStatus[];
  severity?: Severity[];
  ruleId?: string;
  /** An assignee name, or `null` for unassigned ones. */
  assignee?: string | null;
  /** ATT&CK tactic as stored (e.g. `credential_access`). */
  tactic?: string;
  technique?: string;
  tag?: string;
  /** Case-insensitive substring of the title, rule title or id. */
  text?: string;
  /** Incidents active in the range: last seen at or after `from`, first seen before `to`. */
  time?: TimeRange;
  sort?: { field: IncidentSortField; order: 'asc' | 'desc' };
  limit?: number;
  /** Opaque cursor from a previous page (same filters and sort). */
  after?: string;
}

export interface IncidentPage {
  incidents: Incident[];
  total: number;
  next?: string;
}

/** A page of the analyst's list: the same rows, total and cursor as `search`, each row a list item. */
export interface IncidentListPage {
  incidents: IncidentListItem[];
  total: number;
  next?: string;
}

/** Counts and response times for one agency and severity. */
export interface IncidentCell {
  agency: string;
  severity: Severity;
  count: number;
  acknowledged: number;
  /** Mean of `timeToAcknowledgeMs` over the acknowledged ones. */
  meanTimeToAcknowledgeMs: number | null;
  closed: number;
  meanTimeToResolveMs: number | null;
}

export interface IncidentSummary {
  /** Incidents not closed (any creation time), by agency and severity. */
  open: { agency: string; severity: Severity; count: number }[];
  /** Incidents created in the range, with their MTTA/MTTR. */
  created: IncidentCell[];
  /** Incidents created per bucket over the range (every bucket present, zeros included). */
  createdHistogram: { start: string; count: number }[];
  /** Most frequent ATT&CK tactics among open incidents. */
  topTactics: { tactic: string; count: number }[];
  /** The same, per agency (top `topTactics` of each), ordered by agency then count. */
  tacticsByAgency: { agency: string; tactic: string; count: number }[];
  /** `createdHistogram` per agency that had incidents created in the range (counts aligned with its buckets). */
  createdHistogramByAgency?: { agency: string; counts: number[] }[];
}

/**
 * The reads the API and tiles need over incidents (filters, sort, keyset paging, aggregations), kept apart
 * from the correlator's IncidentStore so the write path stays small.
 */
export interface IncidentQueries {
  init(): Promise<void>;
  /** Detections per rule (hit count, last hit) from the detections store, within the agency scope. */
  ruleHits?(scope: { agencies?: string[]; from?: string; to?: string }): Promise<RuleHits[]>;
  /** Whole incidents (exports). */
  search(query: IncidentQuery): Promise<IncidentPage>;
  /** The same page as `search`, each incident as a list item (the list's answer), read without the rest. */
  list(query: IncidentQuery): Promise<IncidentListPage>;
  summarize(scope: {
    agencies?: string[];
    from: string;
    to: string;
    bucketMs: number;
    topTactics?: number;
  }): Promise<IncidentSummary>;
  close(): Promise<void>;
}

/** How often a rule fired: its stored detections in the scope. */
export interface RuleHits {
  ruleId: string;
  count: number;
  /** Newest detection time, ISO 8601. */
  lastHit: string;
}

/** What the worker saw of one source in one batch (or a few): aggregated before it reaches the store. */
export interface SourceObservation {
  agency: string;
  /** `host.hostname`, else the peer address, else `unknown`. */
  host: string;
  /** Listener id the records came in on. */
  listener: string;
  /** Datasets parsed (e.g. `system.auth`), failures excluded. */
  parsers: string[];
  events: number;
  parseFailures: number;
  /** Receive times (event.ingested) of the first and last record, ISO 8601. */
  firstSeen: string;
  lastSeen: string;
}

/** One counting slot of a source (a fixed, epoch-aligned window): the recent rate and failure rate. */
export interface SourceSlot {
  start: string;
  events: number;
  parseFailures: number;
}

/** A log source as the inventory keeps it: one per agency, host and listener. */
export interface SourceRecord {
  id: string;
  agency: string;
  host: string;
  listener: string;
  /** Datasets seen, most recent first (bounded). */
  parsers: string[];
  firstSeen: string;
  lastSeen: string;
  events: number;
  parseFailures: number;
  /** The current slot and the one before it (rate over the last complete slot). */
  current: SourceSlot;
  previous?: SourceSlot;
}

/**
 * The reads the IOC tiles aggregate over. The API's own stores by default; in embedded mode a read thread
 * (store/sqlite/reader-client.ts) answers them, since SQLite's reads are synchronous and a cold snapshot
 * would otherwise hold the API's event loop for their sum.
 */
export interface TileReads {
  events: Pick<EventStore, 'topValues' | 'lastSeenBy'>;
  incidentQueries: Pick<IncidentQueries, 'summarize'>;
  inventory?: Pick<SourceInventory, 'list'>;
}

/**
 * The source inventory: updated by the workers once per batch (aggregated, so the hot path stays cheap),
 * read by the API (agencies and sources, silent sources). A SQLite table or an Elasticsearch index.
 */
export interface SourceInventory {
  init(): Promise<void>;
  record(observations: SourceObservation[]): Promise<void>;
  list(scope: { agencies?: string[] }): Promise<SourceRecord[]>;
  close(): Promise<void>;
}
