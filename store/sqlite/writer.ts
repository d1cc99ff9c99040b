/**
 * Every write of the embedded event and incident stores, on pre-serialised rows: the caller's thread checks
 * shapes and serialises documents (events: event-rows.ts), this runs the SQL. Kept free of everything but the
 * statements so that it can run either inline (on the caller's connection) or on a writer thread of its own
 * (writer-thread.ts), where SQLite's work overlaps the main thread's parsing, matching and correlating.
 *
 * Each call is one transaction.
 */
import type { Database, Statement } from 'better-sqlite3';
import type { SourceObservation, SourceRecord } from '../../core/ports.js';
import { ipToBytes } from '../ip.js';
import { foldObservations, mergeSource } from '../source-inventory.js';
import {
  ADDRESS_MARK,
  ADDRESS_STEP,
  EXTRA_HOT_FIELDS,
  INCIDENT_COLUMNS,
  MOVE_ADDRESSES,
  RECORD_ADDRESS_STEP,
} from './schema.js';

/** Where the `ip` columns sit in an event row (after id, ts, agency). */
const IP_COLUMNS = EXTRA_HOT_FIELDS.flatMap((field, i) => (field.type === 'ip' ? [3 + i] : []));

export type SqlValue = string | number | bigint | Uint8Array | null;

/** The values of an event row: `[id, ts, agency, ...EXTRA_HOT_FIELDS columns]`. */
export const EVENT_ROW_WIDTH = 3 + EXTRA_HOT_FIELDS.length;

/** A batch of events ready to insert: row `i` (its values), `docs[i]` and `terms[i]` are one event. */
export interface EventRows {
  /**
   * The rows' values one after another, EVENT_ROW_WIDTH a row; `ip` columns as text, stored as 16 bytes. One
   * array, not an array a row: the batch crosses to the writer thread by structured clone, where 5,000 small
   * arrays a batch cost more to write, read and collect than their values (docs/store-sqlite.md).
   */
  values: SqlValue[];
  /** The document as JSON. */
  docs: string[];
  /** Full-text terms of `message`, space-separated; '' for none. */
  terms: string[];
  /** Documents that failed the shape check: `[at, eventId, agency, reason, errorType, original]`. */
  deadLetters: SqlValue[][];
}

export interface EventWriteResult {
  indexed: number;
  duplicates: number;
  deadLettered: number;
}

/**
 * An incident row: the values of `INCIDENT_COLUMNS` (schema.ts), in that order, taken from the document
 * `doc` (the last one) by the caller so that the columns cannot drift from it.
 */
export type IncidentRow = [
  id: string,
  agency: string,
  status: string,
  ruleId: string,
  /** Sortable UTC text of lastSeen (and of firstSeen below). */
  lastSeen: string,
  severity: string,
  firstSeen: string,
  createdAt: string,
  updatedAt: string,
  detectionCount: number,
  assignee: string | null,
  timeToAcknowledgeMs: number | null,
  timeToResolveMs: number | null,
  /** The tactics as a JSON array. */
  tactics: string,
  doc: string,
];

/**
 * One incident write. `open` moves (or creates, `pointerVersion` null) the dedup pointer to the incident
 * and creates it, both or neither: a lost race on the pointer writes nothing.
 */
export type IncidentWriteRow =
  | { kind: 'create'; row: IncidentRow }
  | { kind: 'update'; row: IncidentRow; version: number }
  | { kind: 'pointer'; dedupKey: string; incidentId: string; version: number | null }
  | { kind: 'open'; dedupKey: string; pointerVersion: number | null; row: IncidentRow };

/**
 * What one incident write did: the version it stored (the incident's, or the pointer's for `pointer`), read
 * back from the statement itself (`RETURNING version`), or 'conflict' when it wrote nothing.
 */
export type WriteOutcome = { version: number } | 'conflict';

/** `[id, ruleId, agency, ts, doc]`. */
export type DetectionRow = [string, string, string, string, string];

/** The operations a writer offers, by name (the writer thread's messages name them). */
export interface WriterOperations {
  writeEvents(batch: EventRows): EventWriteResult;
  writeDetections(rows: DetectionRow[]): void;
  writeIncidents(writes: IncidentWriteRow[]): WriteOutcome[];
  /** Deletes up to `limit` events older than `cutoffTime` (sortable UTC); returns how many. */
  deleteEventsBefore(cutoffTime: string, limit: number): number;
  /** Folds a flush of the source tracker into the source inventory (source-inventory.ts). */
  recordSources(observations: SourceObservation[]): void;
}

export class SqliteWriter implements WriterOperations {
  readonly #db: Database;
  readonly #insertRow: Statement;
  readonly #insertDoc: Statement;
  readonly #insertText: Statement;
  readonly #insertDeadLetter: Statement;
  readonly #insertDetection: Statement;
  readonly #createIncident: Statement;
  readonly #updateIncident: Statement;
  readonly #createPointer: Statement;
  readonly #movePointer: Statement;
  readonly #selectOld: Statement;
  readonly #deleteText: Statement;
  readonly #deleteDoc: Statement;
  readonly #deleteRow: Statement;
  readonly #addressMark: Statement;
  readonly #nextStep: Statement;
  readonly #moveAddresses: Statement;
  readonly #recordStep: Statement;
  readonly #setAddressMark: Statement;
  readonly #deleteAddress: Statement;
  readonly #lowerAddressMark: Statement;
  readonly #dropEmptySteps: Statement;
  /** Pointer then incident, both or neither: a savepoint undoes the pointer if the create fails. */
  readonly #open: (write: Extract<IncidentWriteRow, { kind: 'open' }>) => WriteOutcome;
  readonly #recordSources: (observations: SourceObservation[]) => void;

  /** Events between two address steps (schema.ts ADDRESS_STEP; tests take fewer). */
  readonly #addressStep: number;

  /** The schema must exist (createSqliteStores creates it before any writer starts). */
  constructor(db: Database, options: { addressStep?: number } = {}) {
    this.#db = db;
    this.#addressStep = options.addressStep ?? ADDRESS_STEP;
    const columns = ['id', 'ts', 'agency', ...EXTRA_HOT_FIELDS.map((field) => field.column)];
    this.#insertRow = db.prepare(
      `INSERT OR IGNORE INTO event_rows (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`,
    );
    this.#insertDoc = db.prepare('INSERT INTO event_docs (rid, doc) VALUES (?, ?)');
    this.#insertText = db.prepare('INSERT INTO events_fts (rowid, terms) VALUES (?, ?)');
    this.#insertDeadLetter = db.prepare(
      'INSERT INTO deadletter (at, event_id, agency, reason, error_type, original) VALUES (?, ?, ?, ?, ?, ?)',
    );
    this.#insertDetection = db.prepare(
      'INSERT OR IGNORE INTO detections (id, rule_id, agency, ts, doc) VALUES (?, ?, ?, ?, ?)',
    );
    this.#createIncident = db.prepare(
      `INSERT OR IGNORE INTO incidents (version, ${INCIDENT_COLUMNS.join(', ')})
       VALUES (1, ${INCIDENT_COLUMNS.map(() => '?').join(', ')}) RETURNING version`,
    );
    // Every column of the row but the id, which names it.
    this.#updateIncident = db.prepare(
      `UPDATE incidents SET version = version + 1, ${INCIDENT_COLUMNS.slice(1)
        .map((column) => `${column} = ?`)
        .join(', ')}
       WHERE id = ? AND version = ? RETURNING version`,
    );
    this.#createPointer = db.prepare(
      'INSERT OR IGNORE INTO incident_keys (dedup_key, incident_id, version) VALUES (?, ?, 1) RETURNING version',
    );
    this.#movePointer = db.prepare(
      'UPDATE incident_keys SET incident_id = ?, version = version + 1 WHERE dedup_key = ? AND version = ? RETURNING version',
    );
    this.#selectOld = db.prepare('SELECT rid, ts, source_ip FROM event_rows WHERE ts < ? LIMIT ?');
    this.#addressMark = db.prepare(`SELECT ${ADDRESS_MARK}`).pluck();
    this.#nextStep = db.prepare('SELECT coalesce(max(step), 0) + 1 FROM address_steps').pluck();
    this.#moveAddresses = db.prepare(MOVE_ADDRESSES);
    this.#recordStep = db.prepare(RECORD_ADDRESS_STEP);
    this.#setAddressMark = db.prepare("UPDATE store_marks SET rid = ? WHERE name = 'addresses'");
    // The entry's step is one whose span holds its time: probed in each such step (one or two in time order),
    // found from the steps beginning at or before it (schema.ts ADDRESS_STEP_INDEXES; retention's rows are the oldest).
    this.#deleteAddress = db.prepare(
      `DELETE FROM event_addresses WHERE step IN (SELECT step FROM address_steps INDEXED BY address_steps_first
         WHERE first_ts <= @ts AND last_ts >= @ts)
       AND source_ip = @ip AND ts = @ts AND rid = @rid`,
    );
    // Steps wholly before the cutoff once their last entry is gone (their spans are read by every search).
    this.#dropEmptySteps = db.prepare(
      `DELETE FROM address_steps WHERE last_ts < ?
       AND NOT EXISTS (SELECT 1 FROM event_addresses AS a WHERE a.step = address_steps.step)`,
    );
    // Row ids are reused past the highest left (INTEGER PRIMARY KEY): a mark above it would hide new rows.
    this.#lowerAddressMark = db.prepare(
      "UPDATE store_marks SET rid = min(rid, (SELECT coalesce(max(rid), 0) FROM event_rows)) WHERE name = 'addresses'",
    );
    this.#deleteText = db.prepare('DELETE FROM events_fts WHERE rowid = ?');
    this.#deleteDoc = db.prepare('DELETE FROM event_docs WHERE rid = ?');
    this.#deleteRow = db.prepare('DELETE FROM event_rows WHERE rid = ?');
    this.#open = db.transaction((write: Extract<IncidentWriteRow, { kind: 'open' }>): WriteOutcome => {
      if (this.#point(write.dedupKey, write.row[0], write.pointerVersion) === 'conflict') return 'conflict';
      const created = this.#create(write.row);
      if (created !== 'conflict') return created;
      throw new OpenConflict();
    });
    this.#recordSources = sourceRecorder(db);
  }

  writeEvents(batch: EventRows): EventWriteResult {
    const result: EventWriteResult = { indexed: 0, duplicates: 0, deadLettered: batch.deadLetters.length };
    this.#db
      .transaction(() => {
        for (const row of batch.deadLetters) this.#insertDeadLetter.run(row);
        const { values, docs, terms } = batch;
        // One row array for the batch: better-sqlite3 copies what it binds.
        const row: SqlValue[] = new Array(EVENT_ROW_WIDTH);
        let lastRid = 0;
        for (let i = 0; i < docs.length; i++) {
          for (let k = 0, at = i * EVENT_ROW_WIDTH; k < EVENT_ROW_WIDTH; k++, at++) row[k] = values[at]!;
          for (const column of IP_COLUMNS) {
            const text = row[column];
            if (typeof text === 'string') row[column] = ipToBytes(text);
          }
          const written = this.#insertRow.run(row);
          if (written.changes !== 1) {
            result.duplicates++;
            continue;
          }
          result.indexed++;
          const rid = written.lastInsertRowid;
          lastRid = Number(rid);
          this.#insertDoc.run(rid, docs[i]!);
          if (terms[i] !== '') this.#insertText.run(rid, terms[i]!);
        }
        if (lastRid > 0) this.#stepAddresses(lastRid);
      })
      .immediate();
    return result;
  }

  /**
   * Moves the address entries of the rows past the mark to `event_addresses` once there are ADDRESS_STEP of
   * them (schema.ts ADDRESS_TABLE), in the caller's transaction: the rows, their entries and the mark
   * commit together, so after a crash the rows past the mark are exactly those without entries.
   */
  #stepAddresses(lastRid: number): void {
    const mark = this.#addressMark.get() as number;
    if (lastRid - mark < this.#addressStep) return;
    const step = this.#nextStep.get() as number;
    this.#moveAddresses.run({ after: mark, last: lastRid, step });
    this.#recordStep.run({ step });
    this.#setAddressMark.run(lastRid);
  }

  writeDetections(rows: DetectionRow[]): void {
    if (rows.length === 0) return;
    this.#db.transaction(() => {
      for (const row of rows) this.#insertDetection.run(row);
    })();
  }

  writeIncidents(writes: IncidentWriteRow[]): WriteOutcome[] {
    return this.#db.transaction(() => writes.map((write) => this.#writeIncident(write))).immediate();
  }

  #writeIncident(write: IncidentWriteRow): WriteOutcome {
    switch (write.kind) {
      case 'create':
        return this.#create(write.row);
      case 'update': {
        const { row } = write;
        return written(this.#updateIncident.get(...row.slice(1), row[0], write.version));
      }
      case 'pointer':
        return this.#point(write.dedupKey, write.incidentId, write.version);
      case 'open':
        try {
          return this.#open(write);
        } catch (error) {
          if (error instanceof OpenConflict) return 'conflict';
          throw error;
        }
    }
  }

  #create(row: IncidentRow): WriteOutcome {
    return written(this.#createIncident.get(...row));
  }

  #point(dedupKey: string, incidentId: string, version: number | null): WriteOutcome {
    return written(
      version === null
        ? this.#createPointer.get(dedupKey, incidentId)
        : this.#movePointer.get(incidentId, dedupKey, version),
    );
  }

  deleteEventsBefore(cutoffTime: string, limit: number): number {
    const rows = this.#selectOld.all(cutoffTime, limit) as {
      rid: number;
      ts: string;
      source_ip: Buffer | null;
    }[];
    if (rows.length === 0) return 0;
    this.#db
      .transaction(() => {
        for (const { rid, ts, source_ip } of rows) {
          this.#deleteText.run(rid);
          this.#deleteDoc.run(rid);
          this.#deleteRow.run(rid);
          if (source_ip !== null) this.#deleteAddress.run({ rid, ts, ip: source_ip });
        }
        this.#lowerAddressMark.run();
        this.#dropEmptySteps.run(cutoffTime);
      })
      .immediate();
    return rows.length;
  }

  recordSources(observations: SourceObservation[]): void {
    this.#recordSources(observations);
  }
}

/**
 * The source inventory's read-merge-write (the `sources` table, source-inventory.ts) in one immediate
 * transaction: SQLite serialises writers, so concurrent flushes never lose a count. The statements are
 * prepared on first use: the API stores create the table, possibly after the writer started.
 */
export function sourceRecorder(db: Database): (observations: SourceObservation[]) => void {
  let read: Statement | undefined;
  let write: Statement | undefined;
  const record = db.transaction((folded: Map<string, SourceObservation>) => {
    read ??= db.prepare('SELECT doc FROM sources WHERE id = ?');
    write ??= db.prepare(
      'INSERT INTO sources (id, agency, doc) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET doc = excluded.doc',
    );
    for (const [id, observation] of folded) {
      const row = read.get(id) as { doc: string } | undefined;
      const next = mergeSource(row ? (JSON.parse(row.doc) as SourceRecord) : undefined, observation);
      write.run(id, next.agency, JSON.stringify(next));
    }
  });
  return (observations) => {
    if (observations.length > 0) record.immediate(foldObservations(observations));
  };
}

class OpenConflict extends Error {}

/** The row a write's `RETURNING version` gave, or none: the write was ignored or matched no version. */
function written(row: unknown): WriteOutcome {
  return row === undefined ? 'conflict' : { version: (row as { version: number }).version };
}
