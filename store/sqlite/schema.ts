/**
 * The SQLite schema of the embedded store. Events keep the whole document as JSON, plus the hot ECS fields
 * of the catalogue as indexed columns; incidents and dedup pointers carry an integer version for
 * optimistic concurrency; detections are keyed by their deterministic id.
 */
import { type FieldSpec, HOT_FIELDS } from '../fields.js';

/** Hot columns other than the three every row has (id, ts, agency). */
export const EXTRA_HOT_FIELDS = HOT_FIELDS.filter(
  (field) => field.column !== 'id' && field.column !== 'ts' && field.column !== 'agency',
);

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

export function schemaStatements(): string[] {
  const hotColumns = EXTRA_HOT_FIELDS.map((field) => `${field.column} ${sqlColumnType(field)}`).join(',\n  ');
  return [
    `CREATE TABLE IF NOT EXISTS events (
  rid INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  ts TEXT NOT NULL,
  agency TEXT NOT NULL,
  ${hotColumns},
  doc TEXT NOT NULL
)`,
    'CREATE INDEX IF NOT EXISTS events_ts ON events (ts, id)',
    'CREATE INDEX IF NOT EXISTS events_agency_ts ON events (agency, ts)',
    ...EXTRA_HOT_FIELDS.map(
      (field) => `CREATE INDEX IF NOT EXISTS events_${field.column}_ts ON events (${field.column}, ts)`,
    ),
    // Contentless FTS over message: the terms are the standard analyzer's tokens joined by spaces, and the
    // ascii tokenizer with these token characters splits them back exactly (see store/text-tokens.ts).
    `CREATE VIRTUAL TABLE IF NOT EXISTS events_fts USING fts5(
  terms, content='', contentless_delete=1, tokenize="ascii tokenchars '_:.'',;'"
)`,
    `CREATE TABLE IF NOT EXISTS deadletter (
  rid INTEGER PRIMARY KEY,
  at TEXT NOT NULL,
  event_id TEXT,
  agency TEXT,
  reason TEXT NOT NULL,
  error_type TEXT,
  original TEXT NOT NULL
)`,
    `CREATE TABLE IF NOT EXISTS incidents (
  id TEXT PRIMARY KEY,
  version INTEGER NOT NULL,
  agency TEXT NOT NULL,
  status TEXT NOT NULL,
  rule_id TEXT NOT NULL,
  last_seen TEXT NOT NULL,
  doc TEXT NOT NULL
) WITHOUT ROWID`,
    'CREATE INDEX IF NOT EXISTS incidents_last_seen ON incidents (last_seen, id)',
    'CREATE INDEX IF NOT EXISTS incidents_agency ON incidents (agency, last_seen)',
    `CREATE TABLE IF NOT EXISTS incident_keys (
  dedup_key TEXT PRIMARY KEY,
  incident_id TEXT NOT NULL,
  version INTEGER NOT NULL
) WITHOUT ROWID`,
    `CREATE TABLE IF NOT EXISTS detections (
  id TEXT PRIMARY KEY,
  rule_id TEXT NOT NULL,
  agency TEXT NOT NULL,
  ts TEXT NOT NULL,
  doc TEXT NOT NULL
) WITHOUT ROWID`,
    'CREATE INDEX IF NOT EXISTS detections_rule ON detections (rule_id, ts)',
  ];
}
