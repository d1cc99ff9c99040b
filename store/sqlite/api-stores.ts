/**
 * What the API keeps in the embedded store (keys, audit, rules, incident reads), on its own connection to
 * the same SQLite file as the event and incident stores (WAL lets connections and processes share it).
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import type {
  ApiKeyRepository,
  AuditLog,
  IncidentQueries,
  RuleRepository,
  SourceInventory,
  TileReads,
} from '../../core/ports.js';
import { SqliteApiKeyRepository } from './api-key-store.js';
import { SqliteAuditLog } from './audit-store.js';
import { SqliteIncidentQueries } from './incident-query-store.js';
import { threadTileReader } from './reader-client.js';
import { SqliteRuleRepository } from './rule-store.js';
import { SqliteSourceInventory } from './source-inventory.js';
import { registerEventSqlFunctions } from './sql-functions.js';

export interface ApiStores {
  keys: ApiKeyRepository;
  audit: AuditLog;
  rules: RuleRepository;
  incidentQueries: IncidentQueries;
  /** Log sources seen by the workers (agency, host, listener, rates). */
  sources: SourceInventory;
  /** Where the IOC tiles' aggregations run when not on these stores (embedded: a read thread). */
  tileReads?: TileReads;
  /** Creates tables and indexes (the incident tables must exist: open the incident store first). */
  init(): Promise<void>;
  close(): Promise<void>;
}

export function createSqliteApiStores(options: {
  path: string;
  rulePollMs?: number;
  /** The tiles' reads on a thread of their own (reader-client.ts): what `siem-lite serve` and `api` use. */
  readThread?: boolean;
}): ApiStores {
  mkdirSync(dirname(options.path), { recursive: true });
  const db = new BetterSqlite3(options.path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  // The incident reads sort by `sort_time` (registered on every connection that reads the store).
  registerEventSqlFunctions(db);
  const keys = new SqliteApiKeyRepository(db);
  const audit = new SqliteAuditLog(db);
  const rules = new SqliteRuleRepository(db, { pollMs: options.rulePollMs });
  const incidentQueries = new SqliteIncidentQueries(db);
  const sources = new SqliteSourceInventory(db);
  const tileReader = options.readThread ? threadTileReader(options.path) : undefined;
  let closed = false;
  return {
    keys,
    audit,
    rules,
    incidentQueries,
    sources,
    ...(tileReader ? { tileReads: tileReader } : {}),
    async init() {
      await keys.init();
      await audit.init();
      await rules.init();
      await incidentQueries.init();
      await sources.init();
    },
    async close() {
      if (closed) return;
      closed = true;
      await rules.close();
      await tileReader?.close();
      db.close();
    },
  };
}
