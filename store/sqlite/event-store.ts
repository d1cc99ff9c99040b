/**
 * Events in SQLite: one row per event, keyed by `event.id` (`INSERT OR IGNORE`: re-delivery is counted as
 * a duplicate), written one transaction per batch. Searches use the hot columns' indexes where the field
 * has one, and `json_each` over the stored document otherwise, which matches single values and arrays
 * alike, as Elasticsearch does.
 */
import type { Database, Statement } from 'better-sqlite3';
import type { Logger } from '../../core/logger.js';
import type { SecurityEvent } from '../../core/model.js';
import type { EventPage, EventSearch, EventStore, IndexResult } from '../../core/ports.js';
import { encodeCursor } from '../cursor.js';
import { prepareEvent } from '../event-document.js';
import { type FieldSpec, KEYWORD_IGNORE_ABOVE, valueAt } from '../fields.js';
import { ipToBytes } from '../ip.js';
import { type FieldMatch, planSearch, type SearchPlan } from '../search-plan.js';
import { EXTRA_HOT_FIELDS } from './schema.js';

type SqlValue = string | number | bigint | Buffer | null;

export class SqliteEventStore implements EventStore {
  readonly #db: Database;
  readonly #logger: Logger | undefined;
  #insert: Statement | undefined;
  #deadletter: Statement | undefined;

  constructor(options: { db: Database; logger?: Logger }) {
    this.#db = options.db;
    this.#logger = options.logger;
  }

  async init(): Promise<void> {
    const columns = ['id', 'ts', 'agency', ...EXTRA_HOT_FIELDS.map((field) => field.column), 'doc'];
    this.#insert = this.#db.prepare(
      `INSERT OR IGNORE INTO events (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`,
    );
    this.#deadletter = this.#db.prepare(
      'INSERT INTO deadletter (at, event_id, agency, reason, error_type, original) VALUES (?, ?, ?, ?, ?, ?)',
    );
  }

  async index(events: SecurityEvent[]): Promise<IndexResult> {
    const insert = this.#insert;
    const deadletter = this.#deadletter;
    if (insert === undefined || deadletter === undefined)
      throw new Error('SqliteEventStore.init() was not called');
    const result: IndexResult = { indexed: 0, duplicates: 0, deadLettered: 0 };
    const now = new Date().toISOString();
    const write = this.#db.transaction(() => {
      const row: SqlValue[] = [];
      for (const event of events) {
        const prepared = prepareEvent(event);
        if (!prepared.ok) {
          const source = event as { event?: { id?: unknown }; agency?: { id?: unknown } } | null;
          deadletter.run(
            now,
            typeof source?.event?.id === 'string' ? source.event.id : null,
            typeof source?.agency?.id === 'string' ? source.agency.id : null,
            prepared.reason,
            'shape_check',
            safeJson(event),
          );
          result.deadLettered++;
          continue;
        }
        const { document, id, sortTime } = prepared.event;
        row.length = 0;
        row.push(id, sortTime, document.agency.id);
        for (const field of EXTRA_HOT_FIELDS) row.push(columnValue(valueAt(document, field.name), field));
        row.push(JSON.stringify(document));
        if (insert.run(row).changes === 1) result.indexed++;
        else result.duplicates++;
      }
    });
    write.immediate();
    if (result.deadLettered > 0) this.#logger?.warn({ count: result.deadLettered }, 'events dead-lettered');
    return result;
  }

  async search(search: EventSearch): Promise<EventPage> {
    const plan = planSearch(search);
    if (plan.matchesNothing) return { events: [], total: 0 };
    const where = toWhere(plan);
    const total = this.#count(where);
    const params = [...where.params];
    let sql = `SELECT ts, id, doc FROM events WHERE ${where.sql}`;
    if (plan.after !== undefined) {
      sql += ' AND (ts, id) < (?, ?)';
      params.push(plan.after.sort[0], plan.after.sort[1]);
    }
    sql += ' ORDER BY ts DESC, id DESC LIMIT ?';
    params.push(plan.limit);
    const rows = this.#db.prepare(sql).all(params) as { ts: string; id: string; doc: string }[];
    const events = rows.map((row) => JSON.parse(row.doc) as SecurityEvent);
    const last = rows[rows.length - 1];
    return rows.length === plan.limit && last !== undefined
      ? { events, total, next: encodeCursor({ sort: [last.ts, last.id] }) }
      : { events, total };
  }

  async count(search: EventSearch): Promise<number> {
    const plan = planSearch({ ...search, after: undefined, limit: undefined });
    if (plan.matchesNothing) return 0;
    return this.#count(toWhere(plan));
  }

  #count(where: { sql: string; params: SqlValue[] }): number {
    const row = this.#db.prepare(`SELECT count(*) AS n FROM events WHERE ${where.sql}`).get(where.params) as {
      n: number;
    };
    return row.n;
  }

  /** Committed writes are visible at once in SQLite. */
  async refresh(): Promise<void> {}

  async close(): Promise<void> {}
}

/** The value a hot column holds: what ES would index for the field, or NULL where it indexes nothing. */
function columnValue(value: unknown, field: FieldSpec): SqlValue {
  if (value === undefined || value === null) return null;
  switch (field.type) {
    case 'ip':
      return ipToBytes(String(value));
    case 'long':
      return typeof value === 'number' ? value : null;
    default: {
      const text = String(value);
      return text.length > KEYWORD_IGNORE_ABOVE ? null : text;
    }
  }
}

export function toWhere(plan: SearchPlan): { sql: string; params: SqlValue[] } {
  const clauses: string[] = [];
  const params: SqlValue[] = [];
  if (plan.agencies !== undefined) {
    clauses.push(`agency IN (${plan.agencies.map(() => '?').join(', ')})`);
    params.push(...plan.agencies);
  }
  if (plan.from !== undefined) {
    clauses.push('ts >= ?');
    params.push(plan.from);
  }
  if (plan.to !== undefined) {
    clauses.push('ts < ?');
    params.push(plan.to);
  }
  for (const match of plan.matches) {
    const clause = matchClause(match);
    clauses.push(clause.sql);
    params.push(...clause.params);
  }
  return { sql: clauses.length === 0 ? '1' : clauses.join(' AND '), params };
}

/** `$."a"."b"`: a JSON path for a validated dotted field name, bound as a parameter, never spliced. */
export function jsonPath(field: string): string {
  return `$.${field
    .split('.')
    .map((part) => `"${part}"`)
    .join('.')}`;
}

function matchClause(match: FieldMatch): { sql: string; params: SqlValue[] } {
  const spec = match.spec;
  if (spec?.column !== undefined) {
    const value = spec.type === 'ip' ? ipToBytes(String(match.value)) : (match.value as SqlValue);
    return { sql: `${spec.column} = ?`, params: [value] };
  }
  const each = 'EXISTS (SELECT 1 FROM json_each(events.doc, ?) AS j WHERE ';
  const path = jsonPath(match.field);
  switch (spec?.type) {
    case 'ip':
      return { sql: `${each}ip16(j.value) = ?)`, params: [path, ipToBytes(String(match.value))] };
    case 'long':
    case 'double':
      return {
        sql: `${each}j.type IN ('integer', 'real') AND j.value = ?)`,
        params: [path, match.value as number],
      };
    case 'date':
    case 'date_nanos':
      return { sql: `${each}sort_time(j.value) = ?)`, params: [path, match.value as string] };
    case 'boolean':
      return { sql: `${each}j.type = ?)`, params: [path, match.value ? 'true' : 'false'] };
    case 'keyword':
      return { sql: `${each}j.type = 'text' AND j.value = ?)`, params: [path, match.value as string] };
    default:
      // Unmapped: ES maps any leaf to keyword, indexing numbers and booleans as their text.
      return { sql: `${each}keyword_text(j.type, j.value) = ?)`, params: [path, match.value as string] };
  }
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
