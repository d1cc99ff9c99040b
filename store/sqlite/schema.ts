/**
 * The SQLite schema of the embedded store.
 *
 * Events are split in two tables on one integer key (`rid`, in arrival order): `event_rows` holds the
 * hot ECS fields as columns (about 150 bytes a row), `event_docs` the whole document as JSON (about
 * 1.3 KB). Filters, counts and aggregations read the narrow rows; only the page of results and the
 * filters on other fields read documents. The view `events` joins both, for the rules' SQL backend
 * (`events.doc`) and for anyone reading the file. Incidents and dedup pointers carry an integer version
 * for optimistic concurrency; detections are keyed by their time and deterministic id.
 *
 * Indexes are few on purpose: each one costs every insert (issue 5: ≥ 50k events/s). Time is the first
 * filter of every search, so `(ts, id)` and `(agency, ts)` carry the searches, `event_kind` has its own
 * (INDEXED_HOT_COLUMNS) and `source_ip` a table of its own written in sorted steps (ADDRESS_TABLE); the other
 * hot columns are read from the narrow rows.
 */

import type { Database } from 'better-sqlite3';
import { type FieldSpec, HOT_FIELDS, KEYWORD_IGNORE_ABOVE } from '../fields.js';

/**
 * `PRAGMA user_version` of this layout; 0 = the first layout (one `events` table with `doc`), 2 = split
 * events, 3 = the queue's dead letters added (a new table only: `CREATE … IF NOT EXISTS` adds it to a file
 * of version 2, no migration step), 4 = `incidents` a rowid table with the fields the API filters, sorts and
 * aggregates on as columns (incidentMigrationStatements), 5 = the index `incidents_status_seen` (status, last
 * seen) added (`CREATE INDEX IF NOT EXISTS` builds it on a file of version 4 when it opens: no step of its own),
 * 6 = `event.kind` a column of `event_rows` with an index `(event_kind, ts)` (hotColumnStatements: the
 * column added and filled from the documents, the `events` view re-created with it), 7 = the address index
 * `(source_ip, ts)` replaced by `(hour, source_ip, ts)` (`events_hour_source_ip`: built by `CREATE INDEX IF NOT
 * EXISTS` on open, one pass over `event_rows`; the old one dropped in the same transaction), 8 = `detections`
 * keyed by `(ts, id)` instead of `id` (DETECTIONS_TABLE, detectionMigrationStatements), 9 = the address
 * index on `event_rows` replaced by `event_addresses`, written in sorted steps (ADDRESS_TABLE,
 * migrateAddresses: the table filled from `event_rows`, step by step, when a file without it opens), 10 = the
 * indexes on the address steps' time spans (ADDRESS_STEP_INDEXES: `CREATE INDEX IF NOT EXISTS` on open, no
 * step of its own), 11 = `event_addresses` with each entry's agency (ADDRESS_TABLE: the entries moved again
 * from `event_rows` when a file of an older layout opens, migrateAddresses), 12 = correlation detections unique
 * by id (CORRELATION_DETECTION_ID: repeated ones of an older file dropped first, DROP_REPEATED_CORRELATIONS),
 * 13 = `url.path` and `http.response.status_code` columns of `event_rows`, without an index
 * (hotColumnStatements, as for 6), 14 = the address entries indexed by step and agency (ADDRESS_AGENCY_INDEX:
 * `CREATE INDEX IF NOT EXISTS` on open, no step of its own).
 */
export const SCHEMA_VERSION = 14;

/**
 * Incidents: the whole document in `doc` (last, so reading the other columns never touches its overflow
 * pages), and beside it, written from the same document by the writer, every field the stores and the API
 * filter, sort or aggregate on. A rowid table, not `WITHOUT ROWID`: with the document in the primary key's
 * B-tree, SQLite seeks the table for each index entry a query visits; with a rowid table a covering index
 * answers alone (issue 7: a filtered count went from 41 ms to 0.6 ms). Times are sortable UTC text
 * (`toSortTime`), except `created_at`, kept as written (ISO 8601 UTC) because the API compares it to ISO
 * bounds. `tactics` is the JSON array, so counting tactics reads it instead of the document. The derived
 * columns allow NULL as `json_extract` gives it: a document without the field filters as it did before.
 */
const INCIDENTS_TABLE = `CREATE TABLE IF NOT EXISTS incidents (
  id TEXT NOT NULL UNIQUE,
  version INTEGER NOT NULL,
  agency TEXT NOT NULL,
  status TEXT NOT NULL,
  rule_id TEXT NOT NULL,
  last_seen TEXT NOT NULL,
  severity TEXT,
  first_seen TEXT,
  created_at TEXT,
  updated_at TEXT,
  detection_count INTEGER,
  assignee TEXT,
  tta_ms INTEGER,
  ttr_ms INTEGER,
  tactics TEXT NOT NULL,
  doc TEXT NOT NULL
)`;

/** Columns of `incidents` in the order IncidentRow values are bound (the writer's INSERT). */
export const INCIDENT_COLUMNS = [
  'id',
  'agency',
  'status',
  'rule_id',
  'last_seen',
  'severity',
  'first_seen',
  'created_at',
  'updated_at',
  'detection_count',
  'assignee',
  'tta_ms',
  'ttr_ms',
  'tactics',
  'doc',
] as const;

/**
 * Indexes from the queries the stores issue (few: each costs every incident write): the list's default
 * order (`last_seen, id`) and its filters each with `last_seen, id` after them, so a filtered page is
 * picked from one index without reading rows and a filtered count is answered from it; status with severity
 * for the triage view's usual filter (open and high or critical), and status alone in last-seen order; and
 * the tiles' aggregations as covering indexes (open incidents by agency, severity and tactics; incidents
 * created in a range with their response times).
 */
const INCIDENT_INDEXES = [
  'CREATE INDEX IF NOT EXISTS incidents_last_seen ON incidents (last_seen, id)',
  'CREATE INDEX IF NOT EXISTS incidents_agency ON incidents (agency, last_seen, id)',
  'CREATE INDEX IF NOT EXISTS incidents_status ON incidents (status, severity, last_seen, id)',
  // One status in last-seen order (e.g. the resolved ones, 75% of incidents): read in order from here instead
  // of sorting every entry of the status from the index above (issue 7: 20 ms for 75k resolved).
  'CREATE INDEX IF NOT EXISTS incidents_status_seen ON incidents (status, last_seen, id)',
  'CREATE INDEX IF NOT EXISTS incidents_severity ON incidents (severity, last_seen, id)',
  'CREATE INDEX IF NOT EXISTS incidents_rule ON incidents (rule_id, last_seen, id)',
  'CREATE INDEX IF NOT EXISTS incidents_assignee ON incidents (assignee, last_seen, id)',
  'CREATE INDEX IF NOT EXISTS incidents_open ON incidents (status, agency, severity, tactics)',
  'CREATE INDEX IF NOT EXISTS incidents_created ON incidents (created_at, agency, severity, tta_ms, ttr_ms)',
];

/** Hot columns other than the three every row has (id, ts, agency). */
export const EXTRA_HOT_FIELDS = HOT_FIELDS.filter(
  (field) => field.column !== 'id' && field.column !== 'ts' && field.column !== 'agency',
);

/**
 * Hot columns with an index of their own, `(column, ts)`: `event_kind`, whose `pipeline_error` range is the
 * tiles' parse-failure count (88 ms over the last hour's rows → < 0.1 ms; a few distinct values, so inserts
 * append within each: no insert cost measurable against the noise, 95–110 vs 97–113 µs of CPU an event in
 * four interleaved runs).
 */
export const INDEXED_HOT_COLUMNS: readonly string[] = ['event_kind'];

/**
 * The address entries (`source_ip` of `event_rows`), not an index on `event_rows`: an index entry per insert
 * at its address's place dirtied a leaf of its own per event once the current hour held more leaves than a
 * transaction has events (e2e, 13k events/s from 62,500 addresses: 26–29 KB written an event, issue 5/6).
 * The writer moves the entries of the rows past ADDRESS_MARK here every ADDRESS_STEP events, sorted, in one
 * statement of its transaction (writer.ts), each step under a number of its own (`step`, increasing), so a
 * step appends one sorted run at the table's right edge whatever the rate. `address_steps` holds each
 * step's time span: a search probes its address in each step overlapping its range, and reads the rows past
 * the mark (at most ADDRESS_STEP, by row id) from `event_rows` (addressRids). Each entry carries its row's agency
 * (not in the key): an agency-scoped search is answered from the entries alone, where it used to test each
 * matching entry's row or each row of the scope (ten agencies' week and a dense /24: 199k of 609k entries).
 */
const ADDRESS_TABLE = `CREATE TABLE IF NOT EXISTS event_addresses (
  step INTEGER NOT NULL,
  source_ip BLOB NOT NULL,
  ts TEXT NOT NULL,
  rid INTEGER NOT NULL,
  agency TEXT NOT NULL,
  PRIMARY KEY (step, source_ip, ts, rid)
) WITHOUT ROWID`;

const ADDRESS_STEPS_TABLE = `CREATE TABLE IF NOT EXISTS address_steps (
  step INTEGER PRIMARY KEY,
  first_ts TEXT NOT NULL,
  last_ts TEXT NOT NULL
)`;

/**
 * The steps overlapping a time range or holding a time, from the spans' indexes instead of every step (a row
 * every ADDRESS_STEP events: what is stored, for every address search and every row retention deletes). A span
 * is an interval: each index serves one side. Searches (recent ranges) read the steps ending at or after the
 * range's start (`address_steps_last`: the steps before it are not visited); retention (the oldest times)
 * reads the steps beginning at or before the row's time (`address_steps_first`). Each query names its index:
 * with both on the table SQLite's planner has no statistics to choose between them. The spans' other bound is
 * in each index, so neither reads the table.
 */
const ADDRESS_STEP_INDEXES = [
  'CREATE INDEX IF NOT EXISTS address_steps_last ON address_steps (last_ts, first_ts)',
  'CREATE INDEX IF NOT EXISTS address_steps_first ON address_steps (first_ts, last_ts)',
];

/**
 * The entries of each step by agency, then address (and, as in every index of a `WITHOUT ROWID` table, the
 * rest of the key: `ts`, `rid`): an agency-scoped address search reads its agencies' matching entries, one
 * probe per step and agency, instead of every agency's matching entries tested one by one (ten agencies' week
 * and a dense /24: 197k of 609k entries, the count 90 -> 20 ms of CPU). The planner takes it when the agencies
 * are named (`a.agency IN (…)`, an equality before the address), and the primary key otherwise. A step's
 * entries land in 31 runs at the index's right edge instead of one: still appends.
 */
const ADDRESS_AGENCY_INDEX =
  'CREATE INDEX IF NOT EXISTS event_addresses_agency ON event_addresses (step, agency, source_ip)';

/**
 * Marks kept beside the data, in the same transactions: `addresses` = the highest row id whose address
 * entry is in `event_addresses` (every row at or below it has its entry; none above it does).
 */
const MARKS_TABLE =
  'CREATE TABLE IF NOT EXISTS store_marks (name TEXT PRIMARY KEY, rid INTEGER NOT NULL) WITHOUT ROWID';

/** The address mark, as a scalar subquery. */
export const ADDRESS_MARK = "(SELECT rid FROM store_marks WHERE name = 'addresses')";

/** Events between two address steps (see ADDRESS_TABLE): the most rows an address search reads past the mark. */
export const ADDRESS_STEP = 50_000;

/**
 * One address step: the entries of the rows in `(@after, @last]` (row ids) into `event_addresses` under step `@step`,
 * sorted by the key, so they are appended as one run. Used by the writer and by the migration.
 */
export const MOVE_ADDRESSES = `INSERT INTO event_addresses (step, source_ip, ts, rid, agency)
  SELECT @step, source_ip, ts, rid, agency FROM event_rows WHERE rid > @after AND rid <= @last AND source_ip IS NOT NULL
  ORDER BY source_ip, ts, rid`;

/** The step's time span (after MOVE_ADDRESSES with the same step); nothing when the step moved no entry. */
export const RECORD_ADDRESS_STEP = `INSERT INTO address_steps (step, first_ts, last_ts)
  SELECT @step, min(ts), max(ts) FROM event_addresses WHERE step = @step HAVING count(*) > 0`;

/**
 * Whether the file's address entries must be (re)built from its rows: written before schema 9 (`event_rows`
 * without `event_addresses`) or before 11 (entries without their agency). `tables`: the file's tables, as
 * the opening transaction has read them.
 */
export function addressEntriesOutdated(db: Database, tables: readonly string[]): boolean {
  if (!tables.includes('event_rows')) return false;
  if (!tables.includes('event_addresses')) return true;
  return (
    db.prepare("SELECT 1 FROM pragma_table_info('event_addresses') WHERE name = 'agency'").get() === undefined
  );
}

/**
 * A file whose address entries are outdated (addressEntriesOutdated): the entries of its rows (re)built,
 * moved in steps of `step` rows (the writer's, ADDRESS_STEP) in row-id order, as the writer would have, so that no statement sorts
 * more than a step (the connection's temp store is memory) and each step spans the time of its rows; the
 * mark at the last row.
 */
export function migrateAddresses(db: Database, step = ADDRESS_STEP): void {
  for (const table of ['event_addresses', 'address_steps']) db.exec(`DROP TABLE IF EXISTS ${table}`);
  for (const table of [ADDRESS_TABLE, ADDRESS_STEPS_TABLE, MARKS_TABLE]) db.exec(table);
  const { first, last } = db
    .prepare('SELECT coalesce(min(rid), 1) - 1 AS first, coalesce(max(rid), 0) AS last FROM event_rows')
    .get() as { first: number; last: number };
  const move = db.prepare(MOVE_ADDRESSES);
  const record = db.prepare(RECORD_ADDRESS_STEP);
  let number = 0;
  for (let after = first; after < last; after += step) {
    number++;
    move.run({ after, last: Math.min(after + step, last), step: number });
    record.run({ step: number });
  }
  db.prepare("INSERT OR REPLACE INTO store_marks (name, rid) VALUES ('addresses', ?)").run(last);
}

/** The document of the event row `events` in a query over `event_rows AS events`. */
export const EVENT_DOC = '(SELECT doc FROM event_docs WHERE event_docs.rid = events.rid)';

export function sqlColumnType(field: FieldSpec): string {
  switch (field.type) {
    case 'ip':
      return 'BLOB';
    case 'long':
    case 'boolean':
      return 'INTEGER';
    case 'double':
      return 'REAL';
    default:
      return 'TEXT';
  }
}

const FTS_TABLE = `CREATE VIRTUAL TABLE IF NOT EXISTS events_fts USING fts5(
  terms, content='', contentless_delete=1, tokenize="ascii tokenchars '_:.'',;'"
)`;

/**
 * Detections keyed by `(ts, id)`, not by `id` alone: the id is a digest (random), so keyed on it every
 * detection went to a random leaf of the table, whose rows carry the document: 32 -> 48 us of CPU a
 * detection as the table grew to 900k rows, against 5 us keyed on the time first (inserts land in the
 * newest leaves), in transactions of 150 (e2e: the writer's detections 7 us an event, issue 6). A rule's
 * detection has its event's time, so its re-delivery has the same key and `INSERT OR IGNORE` keeps one; a
 * correlation's does not always (CORRELATION_DETECTION_ID). The listing's order, `ts DESC, id DESC`, is the key's.
 */
const DETECTIONS_TABLE = `CREATE TABLE IF NOT EXISTS detections (
  id TEXT NOT NULL,
  rule_id TEXT NOT NULL,
  agency TEXT NOT NULL,
  ts TEXT NOT NULL,
  doc TEXT NOT NULL,
  PRIMARY KEY (ts, id)
) WITHOUT ROWID`;

/**
 * A correlation detection's id is digest(rule, group, completing hit) and its time the end of the window that
 * hit completed, which depends on the hits present when it fired: re-delivered after the group's state was
 * lost (embedded mode keeps it in memory; Redis keys expire), the same hit can close a window ending at
 * another time, and `(ts, id)` would keep both where Elasticsearch (`create` by `_id`) keeps the first. So
 * correlation detections are also unique by id, in an index of their own only: a unique index on every
 * detection's id (a random digest) put each insert at a random leaf again, about twice the CPU a detection
 * in a scratch run; correlation detections are a small part of them. `json_type` is deterministic, as a
 * partial index's condition must be. Rules' detections stay deduplicated by their key alone.
 */
const CORRELATION_DETECTION_ID = `CREATE UNIQUE INDEX IF NOT EXISTS detections_correlation_id ON detections (id)
  WHERE json_type(doc, '$.correlation') IS NOT NULL`;

/**
 * Before CORRELATION_DETECTION_ID is built on a file written before it (schema 11 and before): each
 * correlation detection stored more than once, by id, kept at its earliest time.
 */
export const DROP_REPEATED_CORRELATIONS = `DELETE FROM detections WHERE (ts, id) IN (
  SELECT ts, id FROM (
    SELECT ts, id, row_number() OVER (PARTITION BY id ORDER BY ts) AS n FROM detections
    WHERE json_type(doc, '$.correlation') IS NOT NULL
  ) WHERE n > 1
)`;

/**
 * Statements that bring `detections` keyed by `id` (schema 7 and before) to `(ts, id)`: a new table, the old
 * one (and its index, made again by schemaStatements) dropped. Copied in the order of `(rule_id, ts)`, which
 * the old index gives without a sort (sorting by `(ts, id)` would hold every row in memory: temp_store is
 * MEMORY), so each rule's detections sweep the new table once in time order instead of landing at random.
 */
export function detectionMigrationStatements(): string[] {
  return [
    DETECTIONS_TABLE.replace('detections (', 'detections_v8 ('),
    'INSERT INTO detections_v8 (id, rule_id, agency, ts, doc) SELECT id, rule_id, agency, ts, doc FROM detections ORDER BY rule_id, ts',
    'DROP TABLE detections',
    'ALTER TABLE detections_v8 RENAME TO detections',
  ];
}

export function schemaStatements(): string[] {
  const hotColumns = EXTRA_HOT_FIELDS.map((field) => `${field.column} ${sqlColumnType(field)}`).join(',\n  ');
  const columns = ['rid', 'id', 'ts', 'agency', ...EXTRA_HOT_FIELDS.map((field) => field.column)];
  return [
    `CREATE TABLE IF NOT EXISTS event_rows (
  rid INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  ts TEXT NOT NULL,
  agency TEXT NOT NULL,
  ${hotColumns}
)`,
    'CREATE TABLE IF NOT EXISTS event_docs (rid INTEGER PRIMARY KEY, doc TEXT NOT NULL)',
    'CREATE INDEX IF NOT EXISTS events_ts ON event_rows (ts, id)',
    'CREATE INDEX IF NOT EXISTS events_agency_ts ON event_rows (agency, ts)',
    ...INDEXED_HOT_COLUMNS.map(
      (column) => `CREATE INDEX IF NOT EXISTS events_${column}_ts ON event_rows (${column}, ts)`,
    ),
    'DROP INDEX IF EXISTS events_source_ip_ts',
    'DROP INDEX IF EXISTS events_hour_source_ip',
    ADDRESS_TABLE,
    ADDRESS_AGENCY_INDEX,
    ADDRESS_STEPS_TABLE,
    ...ADDRESS_STEP_INDEXES,
    MARKS_TABLE,
    "INSERT OR IGNORE INTO store_marks (name, rid) VALUES ('addresses', 0)",
    `CREATE VIEW IF NOT EXISTS events AS
  SELECT ${columns.map((column) => `r.${column} AS ${column}`).join(', ')}, d.doc AS doc
  FROM event_rows AS r JOIN event_docs AS d ON d.rid = r.rid`,
    // Contentless FTS over message: the terms are the standard analyzer's tokens joined by spaces, and the
    // ascii tokenizer with these token characters splits them back exactly (see store/text-tokens.ts).
    // Positions are kept (detail=full): phrases need them.
    FTS_TABLE,
    `CREATE TABLE IF NOT EXISTS deadletter (
  rid INTEGER PRIMARY KEY,
  at TEXT NOT NULL,
  event_id TEXT,
  agency TEXT,
  reason TEXT NOT NULL,
  error_type TEXT,
  original TEXT NOT NULL
)`,
    // The in-process queue's dead letters (whole batches; `deadletter` above holds single refused events):
    // see queue-dead-letters.ts. `seq` orders them, newest highest; the letter is JSON in `doc`.
    `CREATE TABLE IF NOT EXISTS queue_dead_letters (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  doc TEXT NOT NULL
)`,
    INCIDENTS_TABLE,
    ...INCIDENT_INDEXES,
    `CREATE TABLE IF NOT EXISTS incident_keys (
  dedup_key TEXT PRIMARY KEY,
  incident_id TEXT NOT NULL,
  version INTEGER NOT NULL
) WITHOUT ROWID`,
    DETECTIONS_TABLE,
    'CREATE INDEX IF NOT EXISTS detections_rule ON detections (rule_id, ts)',
    CORRELATION_DETECTION_ID,
  ];
}

/**
 * Statements that bring a file of the first layout (one `events` table with the document) to this one:
 * the table becomes `event_rows`, the documents move to `event_docs`, indexes no longer kept are dropped.
 * Row ids are kept, so the full-text index stays valid.
 */
export function migrationStatements(fromVersion: number, existingIndexes: string[]): string[] {
  if (fromVersion !== 0) return [];
  const kept = new Set(['events_ts', 'events_agency_ts']);
  return [
    'ALTER TABLE events RENAME TO event_rows',
    'CREATE TABLE event_docs (rid INTEGER PRIMARY KEY, doc TEXT NOT NULL)',
    'INSERT INTO event_docs (rid, doc) SELECT rid, doc FROM event_rows',
    ...existingIndexes.filter((name) => !kept.has(name)).map((name) => `DROP INDEX ${name}`),
    'ALTER TABLE event_rows DROP COLUMN doc',
  ];
}

/**
 * Statements that give an `event_rows` of an older layout the hot columns it lacks (`existing`: the columns
 * it has), filled from the documents as the shape check would have stored them (one pass for all of them),
 * and the `events` view re-created so that it selects them. A column added to the catalogue costs one pass
 * over the documents when a file opens, once (two columns on the 1M-event bench file: 11 s, 3.9 s of CPU).
 */
export function hotColumnStatements(existing: readonly string[]): string[] {
  const missing = EXTRA_HOT_FIELDS.filter((field) => !existing.includes(field.column));
  if (missing.length === 0) return [];
  return [
    ...missing.map((field) => `ALTER TABLE event_rows ADD COLUMN ${field.column} ${sqlColumnType(field)}`),
    `UPDATE event_rows SET (${missing.map((field) => field.column).join(', ')}) = (
  SELECT ${missing.map(documentValue).join(',\n    ')}
  FROM event_docs AS d WHERE d.rid = event_rows.rid)`,
    'DROP VIEW IF EXISTS events',
  ];
}

/**
 * The value a hot column holds, read from a stored document `d.doc` (event-rows.ts columnValue on the
 * document as stored): a keyword's string within `ignore_above`, a long's integer (the shape check stores
 * longs as integers), NULL otherwise. NULL too for an array (several values, written before the field was
 * hot): a column holds one value, so searches on the column no longer find such an event by that field.
 */
function documentValue(field: FieldSpec): string {
  const path = `'$.${field.name}'`;
  const value = `json_extract(d.doc, ${path})`;
  switch (field.type) {
    case 'keyword':
      return `CASE WHEN json_type(d.doc, ${path}) = 'text' AND length(${value}) <= ${KEYWORD_IGNORE_ABOVE} THEN ${value} END`;
    case 'long':
      return `CASE WHEN json_type(d.doc, ${path}) = 'integer' THEN ${value} END`;
    default:
      throw new Error(`no fill from the documents written for a hot ${field.type} column (${field.name})`);
  }
}

/**
 * Statements that bring `incidents` of an older layout (`WITHOUT ROWID`, the fields in the JSON only) to
 * this one: a new table filled from the documents (`sort_time` must be registered on the connection), the
 * old one and its indexes (the API's expression indexes with it) dropped. Incidents keep their version.
 */
export function incidentMigrationStatements(): string[] {
  const json = (path: string) => `json_extract(doc, '$.${path}')`;
  return [
    INCIDENTS_TABLE.replace('incidents (', 'incidents_v4 ('),
    `INSERT INTO incidents_v4 (version, ${INCIDENT_COLUMNS.join(', ')})
     SELECT version, id, agency, status, rule_id, last_seen, ${json('severity')},
       coalesce(sort_time(${json('firstSeen')}), ${json('firstSeen')}), ${json('createdAt')}, ${json('updatedAt')},
       ${json('detectionCount')}, ${json('assignee')}, ${json('timeToAcknowledgeMs')}, ${json('timeToResolveMs')},
       coalesce(json_extract(doc, '$.tactics'), '[]'), doc
     FROM incidents ORDER BY last_seen`,
    'DROP TABLE incidents',
    'ALTER TABLE incidents_v4 RENAME TO incidents',
  ];
}
