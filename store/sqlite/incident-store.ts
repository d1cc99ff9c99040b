/**
 * Incidents, dedup pointers and detections in SQLite. Each incident and pointer row has an integer
 * version: an update names the version it read and succeeds only if the row still has it
 * (`UPDATE ... WHERE version = ?`), so a stale writer gets a conflict instead of overwriting.
 */
import type { Database, Statement } from 'better-sqlite3';
import type { Detection, Incident, Versioned } from '../../core/model.js';
import type {
  BatchWriteOutcome,
  DetectionSearch,
  IncidentSearch,
  IncidentStore,
  IncidentWrite,
  WriteOutcome,
} from '../../core/ports.js';
import { StoreQueryError } from '../errors.js';
import { toSortTime } from '../event-document.js';
import { inList } from './query-sql.js';
import type { DetectionRow, IncidentRow, IncidentWriteRow } from './writer.js';
import { inlineWriter, type WriterClient } from './writer-client.js';

export const DEFAULT_INCIDENT_LIMIT = 100;
export const MAX_INCIDENT_LIMIT = 10_000;

export class SqliteIncidentStore implements IncidentStore {
  readonly #db: Database;
  readonly #writer: WriterClient;
  #readIncident: Statement | undefined;
  #readPointer: Statement | undefined;

  /** `writer`: where writes run (default: inline on `db`); reads always use `db`. */
  constructor(options: { db: Database; writer?: WriterClient }) {
    this.#db = options.db;
    this.#writer = options.writer ?? inlineWriter(options.db);
  }

  async init(): Promise<void> {}

  async get(id: string): Promise<Versioned<Incident> | null> {
    return this.#getOne(id);
  }

  async getMany(ids: string[]): Promise<(Versioned<Incident> | null)[]> {
    return ids.map((id) => this.#getOne(id));
  }

  #getOne(id: string): Versioned<Incident> | null {
    this.#readIncident ??= this.#db.prepare('SELECT doc, version FROM incidents WHERE id = ?');
    const row = this.#readIncident.get(id) as { doc: string; version: number } | undefined;
    return row === undefined
      ? null
      : { value: JSON.parse(row.doc) as Incident, version: String(row.version) };
  }

  async create(incident: Incident): Promise<WriteOutcome> {
    const [outcome] = await this.#writer.writeIncidents([{ kind: 'create', row: incidentRow(incident) }]);
    return outcome === 'conflict' ? 'conflict' : 'ok';
  }

  async update(incident: Incident, version: string): Promise<WriteOutcome> {
    const expected = parseVersion(version);
    if (expected === null) return 'conflict';
    const [outcome] = await this.#writer.writeIncidents([
      { kind: 'update', row: incidentRow(incident), version: expected },
    ]);
    return outcome === 'conflict' ? 'conflict' : 'ok';
  }

  async getDedupPointer(dedupKey: string): Promise<Versioned<string> | null> {
    return this.#pointerOf(dedupKey);
  }

  async getDedupPointers(dedupKeys: string[]): Promise<(Versioned<string> | null)[]> {
    return dedupKeys.map((key) => this.#pointerOf(key));
  }

  #pointerOf(dedupKey: string): Versioned<string> | null {
    this.#readPointer ??= this.#db.prepare(
      'SELECT incident_id, version FROM incident_keys WHERE dedup_key = ?',
    );
    const row = this.#readPointer.get(dedupKey) as { incident_id: string; version: number } | undefined;
    return row === undefined ? null : { value: row.incident_id, version: String(row.version) };
  }

  async setDedupPointer(dedupKey: string, incidentId: string, version: string | null): Promise<WriteOutcome> {
    const expected = version === null ? null : parseVersion(version);
    if (version !== null && expected === null) return 'conflict';
    const [outcome] = await this.#writer.writeIncidents([
      { kind: 'pointer', dedupKey, incidentId, version: expected },
    ]);
    return outcome === 'conflict' ? 'conflict' : 'ok';
  }

  /**
   * One transaction for all the writes (one message to the writer thread); each succeeding write's version
   * is the one its statement stored (writer.ts `RETURNING version`).
   */
  async writeIncidents(writes: IncidentWrite[]): Promise<BatchWriteOutcome[]> {
    const rows: IncidentWriteRow[] = [];
    /** Whether each write was sent (a version that cannot be stored's is not: a conflict). */
    const sent = writes.map((write): boolean => {
      if (write.kind === 'create') {
        rows.push({ kind: 'create', row: incidentRow(write.incident) });
        return true;
      }
      if (write.kind === 'update') {
        const expected = parseVersion(write.version);
        if (expected === null) return false;
        rows.push({ kind: 'update', row: incidentRow(write.incident), version: expected });
        return true;
      }
      const expected = write.pointerVersion === null ? null : parseVersion(write.pointerVersion);
      if (write.pointerVersion !== null && expected === null) return false;
      rows.push({
        kind: 'open',
        dedupKey: write.dedupKey,
        pointerVersion: expected,
        row: incidentRow(write.incident),
      });
      return true;
    });
    const outcomes = rows.length > 0 ? await this.#writer.writeIncidents(rows) : [];
    let next = 0;
    return sent.map((wasSent): BatchWriteOutcome => {
      const outcome = wasSent ? outcomes[next++]! : 'conflict';
      return outcome === 'conflict'
        ? { outcome: 'conflict' }
        : { outcome: 'ok', version: String(outcome.version) };
    });
  }

  async addDetections(detections: Detection[]): Promise<void> {
    if (detections.length === 0) return;
    await this.#writer.writeDetections(
      detections.map(
        (detection): DetectionRow => [
          detection.id,
          detection.ruleId,
          detection.agency,
          toSortTime(detection.timestamp) ?? detection.timestamp,
          JSON.stringify(detection),
        ],
      ),
    );
  }

  async listDetections(search: DetectionSearch): Promise<Detection[]> {
    const limit = checkLimit(search.limit);
    const clauses: string[] = [];
    const params: (string | number)[] = [];
    if (search.agencies !== undefined) {
      const scope = inList('agency', search.agencies);
      clauses.push(scope.sql);
      params.push(...scope.params);
    }
    if (search.ruleId !== undefined) {
      clauses.push('rule_id = ?');
      params.push(search.ruleId);
    }
    if (search.eventId !== undefined) {
      clauses.push(`EXISTS (SELECT 1 FROM json_each(detections.doc, '$.eventIds') AS j WHERE j.value = ?)`);
      params.push(search.eventId);
    }
    params.push(limit);
    const rows = this.#db
      .prepare(
        `SELECT doc FROM detections WHERE ${clauses.length === 0 ? '1' : clauses.join(' AND ')}
         ORDER BY ts DESC, id DESC LIMIT ?`,
      )
      .all(params) as { doc: string }[];
    return rows.map((row) => JSON.parse(row.doc) as Detection);
  }

  async list(search: IncidentSearch): Promise<Incident[]> {
    const limit = checkLimit(search.limit);
    const clauses: string[] = [];
    const params: (string | number)[] = [];
    if (search.agencies !== undefined) {
      const scope = inList('agency', search.agencies);
      clauses.push(scope.sql);
      params.push(...scope.params);
    }
    if (search.status !== undefined) {
      const statuses = inList('status', search.status);
      clauses.push(statuses.sql);
      params.push(...statuses.params);
    }
    if (search.ruleId !== undefined) {
      clauses.push('rule_id = ?');
      params.push(search.ruleId);
    }
    params.push(limit);
    const rows = this.#db
      .prepare(
        `SELECT doc FROM incidents WHERE ${clauses.length === 0 ? '1' : clauses.join(' AND ')}
         ORDER BY last_seen DESC, id DESC LIMIT ?`,
      )
      .all(params) as { doc: string }[];
    return rows.map((row) => JSON.parse(row.doc) as Incident);
  }

  async refresh(): Promise<void> {}

  async close(): Promise<void> {}
}

/** The columns beside the document (schema.ts), from the document itself. */
function incidentRow(incident: Incident): IncidentRow {
  return [
    incident.id,
    incident.agency,
    incident.status,
    incident.ruleId,
    sortKey(incident.lastSeen),
    incident.severity,
    sortKey(incident.firstSeen),
    incident.createdAt,
    incident.updatedAt,
    incident.detectionCount,
    incident.assignee ?? null,
    incident.timeToAcknowledgeMs ?? null,
    incident.timeToResolveMs ?? null,
    JSON.stringify(incident.tactics ?? []),
    JSON.stringify(incident),
  ];
}

/** A time as sortable UTC text, so incidents order by time whatever offset their events carried. */
function sortKey(time: string): string {
  return toSortTime(time) ?? time;
}

function checkLimit(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_INCIDENT_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_INCIDENT_LIMIT) {
    throw new StoreQueryError(`limit must be an integer from 1 to ${MAX_INCIDENT_LIMIT}`);
  }
  return limit;
}

function parseVersion(version: string): number | null {
  if (!/^\d{1,15}$/.test(version)) return null;
  return Number(version);
}
