/**
 * Incidents, dedup pointers and detections in SQLite. Each incident and pointer row has an integer
 * version: an update names the version it read and succeeds only if the row still has it
 * (`UPDATE ... WHERE version = ?`), so a stale writer gets a conflict instead of overwriting.
 */
import type { Database } from 'better-sqlite3';
import type { Detection, Incident, Versioned } from '../../core/model.js';
import type { DetectionSearch, IncidentSearch, IncidentStore, WriteOutcome } from '../../core/ports.js';
import { StoreQueryError } from '../errors.js';
import { toSortTime } from '../event-document.js';

export const DEFAULT_INCIDENT_LIMIT = 100;
export const MAX_INCIDENT_LIMIT = 10_000;

export class SqliteIncidentStore implements IncidentStore {
  readonly #db: Database;

  constructor(options: { db: Database }) {
    this.#db = options.db;
  }

  async init(): Promise<void> {}

  async get(id: string): Promise<Versioned<Incident> | null> {
    const row = this.#db.prepare('SELECT doc, version FROM incidents WHERE id = ?').get(id) as
      | { doc: string; version: number }
      | undefined;
    return row === undefined
      ? null
      : { value: JSON.parse(row.doc) as Incident, version: String(row.version) };
  }

  async create(incident: Incident): Promise<WriteOutcome> {
    const changes = this.#db
      .prepare(
        `INSERT OR IGNORE INTO incidents (id, version, agency, status, rule_id, last_seen, doc)
         VALUES (?, 1, ?, ?, ?, ?, ?)`,
      )
      .run(
        incident.id,
        incident.agency,
        incident.status,
        incident.ruleId,
        lastSeenKey(incident),
        JSON.stringify(incident),
      ).changes;
    return changes === 1 ? 'ok' : 'conflict';
  }

  async update(incident: Incident, version: string): Promise<WriteOutcome> {
    const expected = parseVersion(version);
    if (expected === null) return 'conflict';
    const changes = this.#db
      .prepare(
        `UPDATE incidents SET version = version + 1, agency = ?, status = ?, rule_id = ?, last_seen = ?, doc = ?
         WHERE id = ? AND version = ?`,
      )
      .run(
        incident.agency,
        incident.status,
        incident.ruleId,
        lastSeenKey(incident),
        JSON.stringify(incident),
        incident.id,
        expected,
      ).changes;
    return changes === 1 ? 'ok' : 'conflict';
  }

  async getDedupPointer(dedupKey: string): Promise<Versioned<string> | null> {
    const row = this.#db
      .prepare('SELECT incident_id, version FROM incident_keys WHERE dedup_key = ?')
      .get(dedupKey) as { incident_id: string; version: number } | undefined;
    return row === undefined ? null : { value: row.incident_id, version: String(row.version) };
  }

  async setDedupPointer(dedupKey: string, incidentId: string, version: string | null): Promise<WriteOutcome> {
    if (version === null) {
      const changes = this.#db
        .prepare('INSERT OR IGNORE INTO incident_keys (dedup_key, incident_id, version) VALUES (?, ?, 1)')
        .run(dedupKey, incidentId).changes;
      return changes === 1 ? 'ok' : 'conflict';
    }
    const expected = parseVersion(version);
    if (expected === null) return 'conflict';
    const changes = this.#db
      .prepare(
        'UPDATE incident_keys SET incident_id = ?, version = version + 1 WHERE dedup_key = ? AND version = ?',
      )
      .run(incidentId, dedupKey, expected).changes;
    return changes === 1 ? 'ok' : 'conflict';
  }

  async addDetections(detections: Detection[]): Promise<void> {
    if (detections.length === 0) return;
    const insert = this.#db.prepare(
      'INSERT OR IGNORE INTO detections (id, rule_id, agency, ts, doc) VALUES (?, ?, ?, ?, ?)',
    );
    this.#db.transaction(() => {
      for (const detection of detections) {
        insert.run(
          detection.id,
          detection.ruleId,
          detection.agency,
          toSortTime(detection.timestamp) ?? detection.timestamp,
          JSON.stringify(detection),
        );
      }
    })();
  }

  async listDetections(search: DetectionSearch): Promise<Detection[]> {
    const limit = checkLimit(search.limit);
    const clauses: string[] = [];
    const params: (string | number)[] = [];
    if (search.agencies !== undefined) {
      clauses.push(`agency IN (${search.agencies.map(() => '?').join(', ')})`);
      params.push(...search.agencies);
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
      clauses.push(`agency IN (${search.agencies.map(() => '?').join(', ')})`);
      params.push(...search.agencies);
    }
    if (search.status !== undefined) {
      clauses.push(`status IN (${search.status.map(() => '?').join(', ')})`);
      params.push(...search.status);
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

/** lastSeen as sortable UTC text, so incidents order by time whatever offset their events carried. */
function lastSeenKey(incident: Incident): string {
  return toSortTime(incident.lastSeen) ?? incident.lastSeen;
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
