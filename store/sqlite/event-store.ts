/**
 * Events in SQLite: one row per event, keyed by `event.id` (`INSERT OR IGNORE`: re-delivery is counted as
 * a duplicate), written one transaction per batch. Searches use the hot columns' indexes where the field
 * has one, and `json_each` over the stored document otherwise, which matches single values and arrays
 * alike, as Elasticsearch does.
 */
import type { Database } from 'better-sqlite3';
import type { Logger } from '../../core/logger.js';
import type { SecurityEvent } from '../../core/model.js';
import type {
  EventPage,
  EventSearch,
  EventStore,
  Histogram,
  HistogramOptions,
  IndexResult,
  LastSeen,
  RetentionResult,
  TopValues,
} from '../../core/ports.js';
import { encodeCursor } from '../cursor.js';
import { retentionCutoffDay } from '../event-document.js';
import { planSearch, type SearchPlan } from '../search-plan.js';
import * as aggregations from './aggregations.js';
import { toEventRows } from './event-rows.js';
import {
  addressMatch,
  addressRids,
  hasMessageText,
  inList,
  type SqlCondition,
  type SqlValue,
  toSqlCondition,
} from './query-sql.js';
import { inlineWriter, type WriterClient } from './writer-client.js';

export class SqliteEventStore implements EventStore {
  readonly #db: Database;
  readonly #writer: WriterClient;
  readonly #logger: Logger | undefined;

  /** `writer`: where writes run (default: inline on `db`); reads always use `db`. */
  constructor(options: { db: Database; writer?: WriterClient; logger?: Logger }) {
    this.#db = options.db;
    this.#writer = options.writer ?? inlineWriter(options.db);
    this.#logger = options.logger;
  }

  async init(): Promise<void> {}

  /**
   * Shape check, hot columns, JSON and full-text terms here (event-rows.ts); the inserts in the writer (one
   * transaction, on the writer thread when there is one).
   */
  async index(events: SecurityEvent[]): Promise<IndexResult> {
    const result = await this.#writer.writeEvents(toEventRows(events));
    if (result.deadLettered > 0) this.#logger?.warn({ count: result.deadLettered }, 'events dead-lettered');
    return result;
  }

  async search(search: EventSearch): Promise<EventPage> {
    const plan = planSearch(search);
    if (plan.condition.kind === 'none') return { events: [], total: 0 };
    const where = toWhere(plan, this.#db);
    const { rows, total } = this.#pageWithTotal(plan, where) ?? this.#countThenPage(plan, where);
    // Documents only for the page: the search itself reads the narrow rows.
    const readDoc = this.#db.prepare('SELECT doc FROM event_docs WHERE rid = ?').pluck();
    const events = rows.map((row) => JSON.parse(readDoc.get(row.rid) as string) as SecurityEvent);
    const last = rows[rows.length - 1];
    return rows.length === plan.limit && last !== undefined
      ? { events, total, next: encodeCursor({ sort: [last.ts, last.id] }) }
      : { events, total };
  }

  /**
   * The page and the total from one statement (`count(*) OVER ()`), when the page's plan sorts every match
   * anyway (`USE TEMP B-TREE FOR ORDER BY`: a full-text match drives it, not the `(ts, id)` order): the
   * condition is then evaluated once instead of once for the count and again for the page (a host and a
   * word over 7 days at 1M events: 96k full-text matches looked up twice). Not for address searches (how
   * their page is read depends on the count) nor past a cursor (the total counts the matches before it too).
   */
  #pageWithTotal(plan: SearchPlan, where: EventsWhere): { rows: PageRow[]; total: number } | undefined {
    if (plan.after !== undefined || where.readsAddresses || plan.limit <= 0) return undefined;
    const order = 'ORDER BY events.ts DESC, events.id DESC LIMIT ?';
    const params = [...where.params, plan.limit];
    const steps = this.#db
      .prepare(`EXPLAIN QUERY PLAN ${PAGE_COLUMNS} FROM ${where.from} WHERE ${where.sql} ${order}`)
      .all(params) as { detail: string }[];
    if (!steps.some((step) => step.detail === 'USE TEMP B-TREE FOR ORDER BY')) return undefined;
    const rows = this.#db
      .prepare(`${PAGE_COLUMNS}, count(*) OVER () AS total FROM ${where.from} WHERE ${where.sql} ${order}`)
      .all(params) as (PageRow & { total: number })[];
    return { rows, total: rows[0]?.total ?? 0 };
  }

  /** The total, then the page. */
  #countThenPage(plan: SearchPlan, where: EventsWhere): { rows: PageRow[]; total: number } {
    const total = this.#count(where);
    // Through the address entries the page is every match sorted; past SORTED_PAGE_MAX matches, walking
    // `(ts, id)` newest first meets the page sooner (see SORTED_PAGE_MAX), testing each row's column rather
    // than gathering every matching entry's row id again (a CIDR with 609k matches over 7 days, count and
    // page: 644 -> 389 ms of CPU). Not through the `events` view (a rule's condition), which takes no
    // INDEXED BY: there the planner chooses.
    const walk = total > SORTED_PAGE_MAX && where.readsAddresses && where.from === EVENT_ROWS;
    const page = walk ? toWhere(plan, this.#db, false) : where;
    const from = walk ? `${EVENT_ROWS} INDEXED BY events_ts` : page.from;
    const params = [...page.params];
    let sql = `${PAGE_COLUMNS} FROM ${from} WHERE ${page.sql}`;
    if (plan.after !== undefined) {
      sql += ' AND (events.ts, events.id) < (?, ?)';
      params.push(plan.after.sort[0], plan.after.sort[1]);
    }
    sql += ' ORDER BY events.ts DESC, events.id DESC LIMIT ?';
    params.push(plan.limit);
    return { rows: this.#db.prepare(sql).all(params) as PageRow[], total };
  }

  async count(search: EventSearch): Promise<number> {
    const plan = planSearch({ ...search, after: undefined, limit: undefined });
    if (plan.condition.kind === 'none') return 0;
    return this.#count(toWhere(plan, this.#db));
  }

  #count(where: EventsWhere): number {
    if (where.entriesAlone !== undefined) {
      return this.#db
        .prepare(`SELECT count(*) FROM (${where.entriesAlone.sql})`)
        .pluck()
        .get(where.entriesAlone.params) as number;
    }
    const row = this.#db
      .prepare(`SELECT count(*) AS n FROM ${where.from} WHERE ${where.sql}`)
      .get(where.params) as {
      n: number;
    };
    return row.n;
  }

  /** Committed writes are visible at once in SQLite. */
  async refresh(): Promise<void> {}

  async close(): Promise<void> {}

  async deleteBefore(cutoff: string | number): Promise<RetentionResult> {
    const cutoffTime = `${retentionCutoffDay(cutoff)}T00:00:00.000000000Z`;
    // The days present, one index probe per day rather than a scan of every row to delete.
    const firstFrom = this.#db.prepare('SELECT min(ts) FROM event_rows WHERE ts >= ? AND ts < ?').pluck();
    const days: string[] = [];
    for (let from = ''; ; ) {
      const first = firstFrom.get(from, cutoffTime) as string | null;
      if (first === null) break;
      const day = first.slice(0, 10);
      days.push(day);
      from = `${nextDay(day)}T00:00:00.000000000Z`;
    }
    let events = 0;
    // Small transactions: ingest keeps writing between them instead of waiting for one long delete.
    for (;;) {
      const deleted = await this.#writer.deleteEventsBefore(cutoffTime, 5000);
      if (deleted === 0) break;
      events += deleted;
      await new Promise((resolve) => setImmediate(resolve));
    }
    if (events > 0) this.#logger?.info({ days, events }, 'retention deleted events');
    return { days, events };
  }

  async topValues(search: EventSearch, field: string, size?: number): Promise<TopValues> {
    return aggregations.topValues(this.#db, search, field, size);
  }

  async histogram(search: EventSearch, options?: HistogramOptions): Promise<Histogram> {
    return aggregations.histogram(this.#db, search, options);
  }

  async distinctCount(search: EventSearch, field: string): Promise<number> {
    return aggregations.distinctCount(this.#db, search, field);
  }

  async lastSeenBy(search: EventSearch, field: string, size?: number): Promise<LastSeen[]> {
    return aggregations.lastSeenBy(this.#db, search, field, size);
  }
}

/** A WHERE over the events, with the FROM it needs (the `events` view when a rule reads `events.doc`). */
export interface EventsWhere extends SqlCondition {
  from: string;
  /** Whether an address comparison reads the address entries (see CompiledCondition). */
  readsAddresses: boolean;
  /**
   * When the whole condition is address leaves alone (addressMatch) and no rule: its matching row ids in the
   * time range and scope (addressRids), one per match, so a count reads the entries alone instead of looking
   * each row up (a /24 with 609k matches over 7 days; ten agencies' 199k of them).
   */
  entriesAlone?: SqlCondition;
}

const EVENT_ROWS = 'event_rows AS events';

/** What a page reads of each match: the documents are read for the page's rows only. */
const PAGE_COLUMNS = 'SELECT events.rid AS rid, events.ts AS ts, events.id AS id';
interface PageRow {
  rid: number;
  ts: string;
  id: string;
}

/**
 * The row ids of the events in the plan's time range (one covering scan of the `(ts, id)` index), when
 * the plan has a range and a full-text clause to bound with them; `null` when the range holds no event.
 * Not when the range spans at least half of the stored times (two seeks): the scan reads every entry of
 * the range (7 days of 1M events: 75–88 ms) to spare FTS5 a few postings (the whole store's matches of a
 * word: ~3 ms), and the row ids it leaves in are few beside the range's own. Without the bound the answer
 * is the same: the range itself is in the condition.
 */
function ridRangeFor(db: Database | undefined, plan: SearchPlan): [number, number] | null | undefined {
  if (db === undefined || (plan.from === undefined && plan.to === undefined)) return undefined;
  if (!hasMessageText(plan.condition)) return undefined;
  // Two subqueries: SQLite seeks for a lone min() or max(), and scans for both in one SELECT.
  const stored = db
    .prepare('SELECT (SELECT min(ts) FROM event_rows) AS first, (SELECT max(ts) FROM event_rows) AS last')
    .get() as {
    first: string | null;
    last: string | null;
  };
  if (stored.first === null || stored.last === null) return null;
  const first = tsMillis(stored.first);
  const last = tsMillis(stored.last);
  const from = Math.max(first, plan.from === undefined ? first : tsMillis(plan.from));
  const to = Math.min(last, plan.to === undefined ? last : tsMillis(plan.to));
  if (last > first && (to - from) * 2 >= last - first) return undefined;
  const row = db
    .prepare(
      'SELECT min(rid) AS low, max(rid) AS high FROM event_rows INDEXED BY events_ts WHERE ts >= ? AND ts < ?',
    )
    .get(plan.from ?? '', plan.to ?? '~') as { low: number | null; high: number | null };
  return row.low === null || row.high === null ? null : [row.low, row.high];
}

/**
 * Matches of an address or CIDR search above which its page is read by walking `(ts, id)` newest first
 * rather than from the address entries (schema.ts ADDRESS_TABLE), which hand SQLite every match to sort (1M rows: a CIDR
 * with 87k matches in a day, first 50: 0.1 ms walking, 86 ms sorted; an address with 2.4k matches over 7
 * days: 3–15 ms sorted, while walking would read the week's rows). The walk reads about
 * page × rows in range / matches rows, unless the matches are bunched far from the range's end.
 */
const SORTED_PAGE_MAX = 5000;

/**
 * `db` lets full-text clauses be bounded to the time range's row ids (see ridRangeFor); `entries` false
 * makes address comparisons test the row's column instead of reading the address entries.
 */
export function toWhere(plan: SearchPlan, db?: Database, entries = true): EventsWhere {
  const clauses: string[] = [];
  const params: SqlValue[] = [];
  let readsAddresses = false;
  let entriesAlone: SqlCondition | undefined;
  const scope = { from: plan.from, to: plan.to, agencies: plan.agencies };
  // A condition of address leaves alone (one address, a CIDR, an `or` of them) is one read of the entries
  // in the range and scope (each entry carries its agency), and a count reads nothing else. The range and
  // scope are not tested on the rows again: SQLite would read the rows through `(agency, ts)` or `(ts, id)`
  // testing each against the row ids (ten agencies' week, 320k rows, for 780 matches: 72 ms) instead of
  // looking the matches up. Unless the scope is small (scopeIsSmall): then its rows' column is tested.
  let match = entries ? addressMatch(plan.condition) : undefined;
  const smallScope = match !== undefined && db !== undefined && scopeIsSmall(db, plan);
  if (smallScope) match = undefined;
  if (match !== undefined) {
    const rids = addressRids(match, scope);
    clauses.push(`events.rid IN (${rids.sql})`);
    params.push(...rids.params);
    readsAddresses = true;
    if (plan.rule === undefined) entriesAlone = rids;
  } else {
    if (plan.agencies !== undefined) {
      const scope = inList('events.agency', plan.agencies);
      clauses.push(scope.sql);
      params.push(...scope.params);
    }
    if (plan.from !== undefined) {
      clauses.push('events.ts >= ?');
      params.push(plan.from);
    }
    if (plan.to !== undefined) {
      clauses.push('events.ts < ?');
      params.push(plan.to);
    }
    const ridRange = ridRangeFor(db, plan);
    if (ridRange === null) clauses.push('0');
    if (plan.condition.kind !== 'all') {
      const condition = toSqlCondition(plan.condition, {
        ...(ridRange ? { ridRange } : {}),
        ...(entries && !smallScope ? { time: scope } : {}),
      });
      clauses.push(condition.sql);
      params.push(...condition.params);
      readsAddresses = condition.readsAddresses;
    }
  }
  if (plan.rule !== undefined) {
    const rule = plan.rule.sql();
    clauses.push(`(${rule.where})`);
    params.push(...rule.params);
  }
  return {
    sql: clauses.length === 0 ? '1' : clauses.join(' AND '),
    params,
    from: plan.rule === undefined ? EVENT_ROWS : 'events',
    readsAddresses,
    ...(entriesAlone ? { entriesAlone } : {}),
  };
}

/** Rows of an agency scope in a time range under which an address search tests their column (scopeIsSmall). */
const SMALL_SCOPE_ROWS = 10_000;

/**
 * Whether the plan's agency scope holds fewer than SMALL_SCOPE_ROWS rows in its range (counted from
 * `(agency, ts)`, index entries only, at most that many): an address search then tests those rows' column,
 * a bounded cost (~10 ms at most), rather than reading every matching entry of every agency in the range
 * (one agency's day and a /24 with 87k entries, 2.9k of them its own: 4.4 ms against ~20).
 */
function scopeIsSmall(db: Database, plan: SearchPlan): boolean {
  if (plan.agencies === undefined) return false;
  const scope = inList('agency', plan.agencies);
  const rows = db
    .prepare(
      `SELECT count(*) FROM (SELECT 1 FROM event_rows INDEXED BY events_agency_ts
         WHERE ${scope.sql} AND ts >= ? AND ts < ? LIMIT ?)`,
    )
    .pluck()
    .get(...scope.params, plan.from ?? '', plan.to ?? '~', SMALL_SCOPE_ROWS) as number;
  return rows < SMALL_SCOPE_ROWS;
}

/** Epoch ms of a stored time (fixed-width UTC text, nanoseconds cut to milliseconds). */
function tsMillis(ts: string): number {
  return Date.parse(`${ts.slice(0, 23)}Z`);
}

/** `YYYY-MM-DD` of the day after `day` (UTC). */
function nextDay(day: string): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
}
