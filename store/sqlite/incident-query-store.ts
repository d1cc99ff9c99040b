/**
 * The API's reads over incidents in the embedded store: filters, sort and keyset paging, and the
 * aggregations of the triage statistics and IOC tiles. Reads the `incidents` table the IncidentStore
 * writes (its hot columns, and the document's JSON for the rest, with expression indexes on the fields
 * analysts filter by most). Text search is a phrase of the title's words, as Elasticsearch's `match_phrase`.
 */
import type { Database } from 'better-sqlite3';
import {
  CLOSED_STATUSES,
  INCIDENT_LIST_OMITTED,
  INCIDENT_STATUSES,
  type Incident,
  type IncidentListItem,
  type Severity,
} from '../../core/model.js';
import type {
  IncidentCell,
  IncidentListPage,
  IncidentPage,
  IncidentQueries,
  IncidentQuery,
  IncidentSortField,
  IncidentSummary,
  RuleHits,
} from '../../core/ports.js';
import {
  checkPageLimit,
  decodeSortCursor,
  encodeSortCursor,
  MAX_INCIDENT_PAGE,
  timeBound,
} from '../api-cursors.js';
import { StoreQueryError } from '../errors.js';
import { toSortTime } from '../event-document.js';
import { textTokens } from '../text-tokens.js';
import { inList } from './query-sql.js';

const doc = (path: string) => `json_extract(doc, '$.${path}')`;
const SEVERITY_RANK = `(CASE severity WHEN 'low' THEN 1 WHEN 'medium' THEN 2 WHEN 'high' THEN 3 WHEN 'critical' THEN 4 ELSE 0 END)`;

/** Sort keys: comparable SQL expressions (times as fixed-width UTC text). */
const SORT_EXPRESSION: Record<IncidentSortField, string> = {
  lastSeen: 'last_seen',
  firstSeen: 'first_seen',
  createdAt: 'created_at',
  updatedAt: 'updated_at',
  severity: SEVERITY_RANK,
  detectionCount: 'detection_count',
};

/** Written as the open statuses (not `NOT closed`) so the planner can use the covering status index. */
const OPEN = `status IN (${INCIDENT_STATUSES.filter((status) => !CLOSED_STATUSES.includes(status))
  .map((status) => `'${status}'`)
  .join(', ')})`;

/**
 * A list item from the document: SQLite removes the omitted fields before the text reaches JS (0.7 ms CPU
 * for the default page of 50, against 1.4 ms to parse whole documents and pick, and 1.3-2 ms for a
 * `json_object` of the 24 listed paths, on the bench file's incidents; docs/benchmarks.md).
 */
const LIST_DOC = `json_remove(i.doc, ${Object.keys(INCIDENT_LIST_OMITTED)
  .map((field) => `'$.${field}'`)
  .join(', ')})`;

/** Reads over a connection with the store's SQL functions (`registerEventSqlFunctions`: `sort_time`). */
export class SqliteIncidentQueries implements IncidentQueries {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
    // The title as Elasticsearch's `match_phrase` on a text field sees it: the phrase's tokens, in order.
    db.function('phrase_in', { deterministic: true }, (value: unknown, phrase: unknown) => {
      if (typeof value !== 'string' || typeof phrase !== 'string') return 0;
      return containsPhrase(textTokens(value), JSON.parse(phrase) as string[]) ? 1 : 0;
    });
  }

  /** The indexes these reads use are the store's (schema.ts: the writer keeps the columns they cover). */
  async init(): Promise<void> {}

  async search(query: IncidentQuery): Promise<IncidentPage> {
    const { rows, total, limit } = this.#page(query, 'i.doc');
    const incidents = rows.slice(0, limit).map((row) => JSON.parse(row.doc) as Incident);
    return { incidents, total, ...nextOf(rows, limit) };
  }

  async list(query: IncidentQuery): Promise<IncidentListPage> {
    const { rows, total, limit } = this.#page(query, LIST_DOC);
    const incidents = rows.slice(0, limit).map((row) => {
      const item = JSON.parse(row.doc) as IncidentListItem;
      item.version = String(row.version);
      return item;
    });
    return { incidents, total, ...nextOf(rows, limit) };
  }

  /** The page's rows (one more than the limit when there is a next page), `doc` being `document`. */
  #page(query: IncidentQuery, document: string): { rows: PageRow[]; total: number; limit: number } {
    const limit = checkPageLimit(query.limit, MAX_INCIDENT_PAGE);
    if (query.agencies?.length === 0) return { rows: [], total: 0, limit };
    const { where, params } = whereOf(query);
    const total =
      // Without a WHERE clause at all SQLite counts the smallest B-tree's cells (0.2 ms for 100k incidents);
      // `WHERE 1` would visit every entry (1 ms).
      (
        this.#db
          .prepare(`SELECT count(*) AS n FROM incidents${where === '1' ? '' : ` WHERE ${where}`}`)
          .get(...params) as { n: number }
      ).n;
    const field = query.sort?.field ?? 'lastSeen';
    const descending = (query.sort?.order ?? 'desc') === 'desc';
    const key = SORT_EXPRESSION[field];
    const clauses = [where];
    const pageParams = [...params];
    if (query.after !== undefined) {
      const [value, id] = decodeSortCursor(query.after, 2);
      const op = descending ? '<' : '>';
      clauses.push(`(${key} ${op} ? OR (${key} = ? AND id ${op} ?))`);
      pageParams.push(value!, value!, String(id));
    }
    const direction = descending ? 'DESC' : 'ASC';
    // The page's rows are picked and ordered from the indexes first, then only they read their document:
    // ordering the documents themselves would carry every matching one through the sorter.
    const rows = this.#db
      .prepare(
        `SELECT ${document} AS doc, i.version AS version, p.id AS id, p.sort_key AS sort_key FROM (
           SELECT rowid AS r, id, ${key} AS sort_key FROM incidents WHERE ${clauses.join(' AND ')}
           ORDER BY ${key} ${direction}, id ${direction} LIMIT ?
         ) AS p JOIN incidents AS i ON i.rowid = p.r
         ORDER BY p.sort_key ${direction}, p.id ${direction}`,
      )
      .all(...pageParams, limit + 1) as PageRow[];
    return { rows, total, limit };
  }

  async summarize(scope: {
    agencies?: string[];
    from: string;
    to: string;
    bucketMs: number;
    topTactics?: number;
  }): Promise<IncidentSummary> {
    const from = timeBound(scope.from)!;
    const to = timeBound(scope.to)!;
    const buckets = histogramBuckets(from, to, scope.bucketMs);
    if (scope.agencies?.length === 0) {
      return {
        open: [],
        created: [],
        createdHistogram: buckets,
        createdHistogramByAgency: [],
        topTactics: [],
        tacticsByAgency: [],
      };
    }
    const { sql: agencyClause, params: agencyParams } = scope.agencies
      ? inList('agency', scope.agencies)
      : { sql: '1', params: [] };
    const open = this.#db
      .prepare(
        `SELECT agency, severity, count(*) AS count FROM incidents
         WHERE ${agencyClause} AND ${OPEN} GROUP BY agency, severity ORDER BY agency, severity`,
      )
      .all(...agencyParams) as { agency: string; severity: Severity; count: number }[];
    const createdRows = this.#db
      .prepare(
        `SELECT agency, severity, count(*) AS count,
           count(tta_ms) AS acknowledged, avg(tta_ms) AS mtta, count(ttr_ms) AS closed, avg(ttr_ms) AS mttr
         FROM incidents WHERE ${agencyClause} AND created_at >= ? AND created_at < ?
         GROUP BY agency, severity ORDER BY agency, severity`,
      )
      .all(...agencyParams, from, to) as {
      agency: string;
      severity: Severity;
      count: number;
      acknowledged: number;
      mtta: number | null;
      closed: number;
      mttr: number | null;
    }[];
    const created: IncidentCell[] = createdRows.map((row) => ({
      agency: row.agency,
      severity: row.severity,
      count: row.count,
      acknowledged: row.acknowledged,
      meanTimeToAcknowledgeMs: row.mtta === null ? null : Math.round(row.mtta),
      closed: row.closed,
      meanTimeToResolveMs: row.mttr === null ? null : Math.round(row.mttr),
    }));
    const start = Date.parse(from);
    const byAgency = new Map<string, number[]>();
    if (buckets.length === 1) {
      // One bucket (the tiles' 30-day statistics): it holds everything created in the range, which the
      // cells above have already counted per agency; no need to read every incident's time again.
      for (const cell of created) {
        byAgency.set(cell.agency, [(byAgency.get(cell.agency)?.[0] ?? 0) + cell.count]);
        buckets[0]!.count += cell.count;
      }
    }
    const times =
      buckets.length === 1
        ? []
        : (this.#db
            .prepare(
              `SELECT agency, created_at AS at FROM incidents
               WHERE ${agencyClause} AND created_at >= ? AND created_at < ?`,
            )
            .all(...agencyParams, from, to) as { agency: string; at: string }[]);
    for (const { agency, at } of times) {
      const index = Math.floor((Date.parse(at) - start) / scope.bucketMs);
      const bucket = buckets[index];
      if (!bucket) continue;
      bucket.count++;
      let counts = byAgency.get(agency);
      if (!counts) {
        counts = new Array<number>(buckets.length).fill(0);
        byAgency.set(agency, counts);
      }
      counts[index]!++;
    }
    const createdHistogramByAgency = [...byAgency]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([agency, counts]) => ({ agency, counts }));
    // Tactics of open incidents, by agency: grouped on the tactics column (the JSON array) from the covering
    // index, then counted per tactic here (a handful of distinct arrays, instead of json_each per incident).
    const tacticSets = this.#db
      .prepare(
        `SELECT agency, tactics, count(*) AS count FROM incidents
         WHERE ${agencyClause} AND ${OPEN} GROUP BY agency, tactics`,
      )
      .all(...agencyParams) as { agency: string; tactics: string; count: number }[];
    const overall = new Map<string, number>();
    const perAgencyCounts = new Map<string, Map<string, number>>();
    for (const { agency, tactics, count } of tacticSets) {
      let counts = perAgencyCounts.get(agency);
      if (!counts) {
        counts = new Map();
        perAgencyCounts.set(agency, counts);
      }
      for (const tactic of JSON.parse(tactics) as unknown[]) {
        if (typeof tactic !== 'string') continue;
        overall.set(tactic, (overall.get(tactic) ?? 0) + count);
        counts.set(tactic, (counts.get(tactic) ?? 0) + count);
      }
    }
    const size = scope.topTactics ?? 5;
    const ranked = (counts: Map<string, number>) =>
      [...counts]
        .sort(([a, m], [b, n]) => n - m || compareText(a, b))
        .slice(0, size)
        .map(([tactic, count]) => ({ tactic, count }));
    const topTactics = ranked(overall);
    const tacticsByAgency = [...perAgencyCounts]
      .sort(([a], [b]) => compareText(a, b))
      .flatMap(([agency, counts]) => ranked(counts).map((row) => ({ agency, ...row })));
    return {
      open,
      created,
      createdHistogram: buckets,
      createdHistogramByAgency,
      topTactics,
      tacticsByAgency,
    };
  }

  /** Detections per rule from the `detections` table (indexed by rule and time). */
  async ruleHits(scope: { agencies?: string[]; from?: string; to?: string }): Promise<RuleHits[]> {
    if (scope.agencies?.length === 0) return [];
    const clauses: string[] = [];
    const params: string[] = [];
    if (scope.agencies !== undefined) {
      const agencies = inList('agency', scope.agencies);
      clauses.push(agencies.sql);
      params.push(...agencies.params);
    }
    for (const [bound, op] of [
      [scope.from, '>='],
      [scope.to, '<'],
    ] as const) {
      if (bound === undefined) continue;
      const time = toSortTime(timeBound(bound));
      if (time === null) throw new StoreQueryError(`invalid time ${bound}`);
      clauses.push(`ts ${op} ?`);
      params.push(time);
    }
    const rows = this.#db
      .prepare(
        `SELECT rule_id AS ruleId, count(*) AS count, max(ts) AS last FROM detections
         WHERE ${clauses.length === 0 ? '1' : clauses.join(' AND ')} GROUP BY rule_id ORDER BY rule_id`,
      )
      .all(...params) as { ruleId: string; count: number; last: string }[];
    // Sort times are fixed-width nanosecond UTC text: the first 23 characters are the millisecond ISO time.
    return rows.map((row) => ({
      ruleId: row.ruleId,
      count: row.count,
      lastHit: `${row.last.slice(0, 23)}Z`,
    }));
  }

  async close(): Promise<void> {}
}

interface PageRow {
  doc: string;
  version: number;
  id: string;
  sort_key: string | number;
}

/** The cursor after a page: the last row shown's sort value and id, when a row follows it. */
function nextOf(rows: PageRow[], limit: number): { next?: string } {
  const last = rows.length > limit ? rows[limit - 1]! : undefined;
  return last ? { next: encodeSortCursor([last.sort_key, last.id]) } : {};
}

/** Buckets of `bucketMs` from `from` (inclusive) to `to` (exclusive; the last one may be shorter). */
export function histogramBuckets(
  from: string,
  to: string,
  bucketMs: number,
): { start: string; count: number }[] {
  const buckets: { start: string; count: number }[] = [];
  const end = Date.parse(to);
  for (let start = Date.parse(from); start < end && buckets.length < 10_000; start += bucketMs) {
    buckets.push({ start: new Date(start).toISOString(), count: 0 });
  }
  return buckets;
}

function whereOf(query: IncidentQuery): { where: string; params: (string | number)[] } {
  const clauses: string[] = [];
  const params: (string | number)[] = [];
  // Only the given values of `column`; any value when the query does not name them.
  const restrictTo = (column: string, values: readonly string[] | undefined) => {
    if (values === undefined) return;
    const list = inList(column, values);
    clauses.push(list.sql);
    params.push(...list.params);
  };
  restrictTo('agency', query.agencies);
  restrictTo('status', query.status);
  restrictTo('severity', query.severity);
  if (query.ruleId !== undefined) {
    clauses.push('rule_id = ?');
    params.push(query.ruleId);
  }
  if (query.assignee === null) clauses.push('assignee IS NULL');
  else if (query.assignee !== undefined) {
    clauses.push('assignee = ?');
    params.push(query.assignee);
  }
  const member = (path: string, value: string | undefined) => {
    if (value === undefined) return;
    clauses.push(`EXISTS (SELECT 1 FROM json_each(incidents.doc, '$.${path}') AS m WHERE m.value = ?)`);
    params.push(value);
  };
  if (query.tactic !== undefined) {
    clauses.push('EXISTS (SELECT 1 FROM json_each(incidents.tactics) AS m WHERE m.value = ?)');
    params.push(query.tactic);
  }
  member('techniques', query.technique);
  member('tags', query.tag);
  if (query.text !== undefined && query.text !== '') {
    clauses.push(`(phrase_in(${doc('title')}, ?) OR id = ?)`);
    params.push(JSON.stringify(textTokens(query.text)), query.text);
  }
  const from = sortTimeBound(query.time?.from);
  const to = sortTimeBound(query.time?.to);
  if (from !== undefined) {
    clauses.push('last_seen >= ?');
    params.push(from);
  }
  if (to !== undefined) {
    clauses.push('first_seen < ?');
    params.push(to);
  }
  return { where: clauses.length === 0 ? '1' : clauses.join(' AND '), params };
}

/** SQLite's default (binary) order of text, as the `ORDER BY` these rows replaced. */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function containsPhrase(haystack: string[], phrase: string[]): boolean {
  if (phrase.length === 0) return false;
  outer: for (let start = 0; start + phrase.length <= haystack.length; start++) {
    for (let k = 0; k < phrase.length; k++) if (haystack[start + k] !== phrase[k]) continue outer;
    return true;
  }
  return false;
}

function sortTimeBound(value: string | number | undefined): string | undefined {
  if (value === undefined) return undefined;
  return toSortTime(timeBound(value)) ?? undefined;
}
