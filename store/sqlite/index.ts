/**
 * The embedded-mode store: events, incidents and detections in one SQLite file (WAL), via better-sqlite3.
 */
import type BetterSqlite3 from 'better-sqlite3';
import type { Logger } from '../../core/logger.js';
import type { EventStore, IncidentStore, SourceInventory } from '../../core/ports.js';
import { openDatabase } from './connection.js';
import { SqliteEventStore } from './event-store.js';
import { SqliteIncidentStore } from './incident-store.js';
import { SqliteQueueDeadLetters } from './queue-dead-letters.js';
import {
  addressEntriesOutdated,
  DROP_REPEATED_CORRELATIONS,
  detectionMigrationStatements,
  hotColumnStatements,
  incidentMigrationStatements,
  migrateAddresses,
  migrationStatements,
  SCHEMA_VERSION,
  schemaStatements,
} from './schema.js';
import { SqliteSourceInventory } from './source-inventory.js';
import { registerEventSqlFunctions } from './sql-functions.js';
import { inlineWriter, threadWriter } from './writer-client.js';

export interface SqliteStoreOptions {
  /** Database file, e.g. `./data/siem-lite.db`; its folder is created if missing. */
  path: string;
  logger?: Logger;
  /**
   * Run the writes on a thread of their own (writer-client.ts): what `siem-lite serve` uses, so SQLite's
   * work overlaps the rest of the pipeline. Not for ':memory:' (a second connection cannot share it).
   */
  writerThread?: boolean;
  /** Events between two address steps (schema.ts ADDRESS_STEP); tests take a few to cross steps. */
  addressStep?: number;
}

export interface SqliteStores {
  events: EventStore;
  incidents: IncidentStore;
  /** The in-process queue's dead letters, kept in this file so they survive a restart. */
  queueDeadLetters: SqliteQueueDeadLetters;
  /**
   * The source inventory, written through the writer above (with a thread: in its group transactions, so the
   * source tracker's flush never waits on the main thread for the write lock). Its table is the API stores'.
   */
  sources: SourceInventory;
  close(): Promise<void>;
}

export { SqliteEventStore, SqliteIncidentStore, SqliteQueueDeadLetters };

export function createSqliteStores(options: SqliteStoreOptions): SqliteStores {
  if (options.writerThread && options.path === ':memory:') {
    throw new Error('a writer thread needs a database file, not :memory:');
  }
  const db = openDatabase(options.path);
  registerEventSqlFunctions(db);
  createOrMigrateSchema(db, options.logger, options.addressStep);
  const writerOptions = options.addressStep === undefined ? {} : { addressStep: options.addressStep };
  const writer = options.writerThread
    ? threadWriter(options.path, options.logger, writerOptions)
    : inlineWriter(db, writerOptions);
  const events = new SqliteEventStore({ db, writer, logger: options.logger });
  const incidents = new SqliteIncidentStore({ db, writer });
  const queueDeadLetters = new SqliteQueueDeadLetters(db);
  const sources = new SqliteSourceInventory(db, writer);
  let closed = false;
  return {
    events,
    incidents,
    queueDeadLetters,
    sources,
    async close() {
      if (closed) return;
      closed = true;
      await writer.close();
      db.close();
    },
  };
}

function createOrMigrateSchema(
  db: BetterSqlite3.Database,
  logger: Logger | undefined,
  addressStep: number | undefined,
): void {
  db.transaction(() => {
    const version = db.pragma('user_version', { simple: true }) as number;
    const oldEvents = db
      .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'events'")
      .get();
    if (version < SCHEMA_VERSION && oldEvents !== undefined) {
      const indexes = (
        db
          .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events' AND sql IS NOT NULL",
          )
          .all() as { name: string }[]
      ).map((row) => row.name);
      for (const statement of migrationStatements(version, indexes)) db.exec(statement);
      logger?.info({ from: version, to: SCHEMA_VERSION }, 'sqlite store migrated to the split events layout');
    }
    // Hot columns added to the catalogue since the file was written (6: event.kind).
    const rowColumns = db
      .prepare("SELECT name FROM pragma_table_info('event_rows')")
      .pluck()
      .all() as string[];
    if (rowColumns.length > 0) {
      const statements = hotColumnStatements(rowColumns);
      for (const statement of statements) db.exec(statement);
      if (statements.length > 0)
        logger?.info({ from: version, to: SCHEMA_VERSION }, 'sqlite store added hot columns');
    }
    // Incidents of a layout before 4 (whatever the events' layout): the table without the derived columns.
    const incidentColumns = db.prepare("SELECT name FROM pragma_table_info('incidents')").pluck().all();
    if (incidentColumns.length > 0 && !incidentColumns.includes('severity')) {
      for (const statement of incidentMigrationStatements()) db.exec(statement);
      logger?.info({ from: version, to: SCHEMA_VERSION }, 'sqlite store migrated incidents to a rowid table');
    }
    // Detections keyed by id alone (7 and before): the table again, keyed on (ts, id).
    const detectionKey = db
      .prepare("SELECT pk FROM pragma_table_info('detections') WHERE name = 'ts'")
      .pluck()
      .get();
    if (detectionKey === 0) {
      for (const statement of detectionMigrationStatements()) db.exec(statement);
      logger?.info({ from: version, to: SCHEMA_VERSION }, 'sqlite store keyed detections by time');
    }
    // Correlation detections unique by id (12): an older file's repeated ones dropped first.
    const tables = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
      .pluck()
      .all() as string[];
    if (version < 12 && tables.includes('detections')) db.exec(DROP_REPEATED_CORRELATIONS);
    // Address entries in a table of their own (9), with their agency (11): a file written before gets them
    // (again) from its rows.
    if (addressEntriesOutdated(db, tables)) {
      migrateAddresses(db, addressStep);
      logger?.info(
        { from: version, to: SCHEMA_VERSION },
        'sqlite store moved the address entries to a table',
      );
    }
    for (const statement of schemaStatements()) db.exec(statement);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }).immediate();
}

export { type ApiStores, createSqliteApiStores } from './api-stores.js';
