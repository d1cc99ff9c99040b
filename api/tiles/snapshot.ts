/**
 * Builds the IOC tiles: one tile per agency and one for the province, from a few aggregations over the
 * incident and event stores. A snapshot is computed at most once per `ttlMs` however many walls poll
 * (single flight), and its ETag is a digest of its content without the generation time, so an unchanged
 * picture answers 304 even after it was recomputed.
 */
import { createHash } from 'node:crypto';
import type { AgencyDirectory } from '../../core/agencies.js';
import type { Severity } from '../../core/model.js';
import type {
  EventSearch,
  IncidentCell,
  IncidentSummary,
  SourceRecord,
  TileReads,
} from '../../core/ports.js';
import { combineCells } from '../triage/stats.js';
import { type Reason, THRESHOLDS, type TileStatus, tileStatus } from './status.js';

export const TILES_SCHEMA_VERSION = 1;

/** Per agency, the latest receive time (epoch ms) among its sources heard since `since`. */
function lastReceivedByAgency(sources: SourceRecord[], since: number): Map<string, number> {
  const latest = new Map<string, number>();
  for (const source of sources) {
    const at = Date.parse(source.lastSeen);
    if (at >= since) latest.set(source.agency, Math.max(latest.get(source.agency) ?? at, at));
  }
  return latest;
}

const HOUR = 3_600_000;
/**
 * MTTA/MTTR are means over 30 days of incidents: they move slowly, and their aggregation is the most costly
 * of a snapshot (every incident of the month), so it is recomputed at most this often.
 */
export const MONTH_STATS_TTL_MS = 5 * 60_000;
const RATE_WINDOW_MS = 5 * 60_000;

export interface Tile {
  agency: string;
  name: { vi: string; en: string };
  status: TileStatus;
  reasons: Reason[];
  openIncidents: Record<Severity, number> & { total: number };
  new24h: number;
  /** New incidents per hour over the last 24 h, oldest first (24 numbers). */
  trend24h: number[];
  /** Over the incidents created in the last 30 days. */
  mttaMs: number | null;
  mttrMs: number | null;
  silentSources: number;
  /** Share of the last hour's events that could not be parsed (0–1). */
  parseFailureRate: number;
  /** Over the last 5 minutes. */
  eventsPerSecond: number;
  topTactics: { tactic: string; count: number }[];
}

export interface TilesSnapshot {
  generatedAt: string;
  province: Tile;
  agencies: Tile[];
  /** Content digest (generation time excluded). */
  etag: string;
}

/** `inventory`, the workers' source inventory: silent hosts in one read instead of an aggregation per agency. */
export interface TileSources extends TileReads {
  agencies?: AgencyDirectory;
}

const PROVINCE = { vi: 'Toàn tỉnh', en: 'Province' };

export class TilesService {
  #current: { snapshot: TilesSnapshot; at: number } | undefined;
  #pending: Promise<TilesSnapshot> | undefined;
  #month: { summary: Promise<IncidentSummary>; at: number } | undefined;
  #monthRefresh: NodeJS.Timeout | undefined;

  constructor(
    private readonly sources: TileSources,
    private readonly ttlMs = 5000,
  ) {}

  /** The latest snapshot, recomputed when older than the TTL (one computation at a time). */
  async snapshot(): Promise<TilesSnapshot> {
    if (this.#current && Date.now() - this.#current.at < this.ttlMs) return this.#current.snapshot;
    this.#pending ??= this.#compute()
      .then((snapshot) => {
        this.#current = { snapshot, at: Date.now() };
        return snapshot;
      })
      .finally(() => {
        this.#pending = undefined;
      });
    return this.#pending;
  }

  async #compute(): Promise<TilesSnapshot> {
    const { events, incidentQueries, agencies } = this.sources;
    const now = Date.now();
    const hourStart = Math.floor(now / HOUR) * HOUR;
    const day = {
      from: new Date(hourStart - 23 * HOUR).toISOString(),
      to: new Date(hourStart + HOUR).toISOString(),
    };
    const lastHour = { from: now - HOUR, to: now + 1 };
    // Concurrent: Elasticsearch answers asynchronously, and in embedded mode a read thread does
    // (ApiStores.tileReads), so none of these holds the API's event loop.
    const agencyCounts = (search: EventSearch) => events.topValues?.(search, 'agency.id', 1000);
    const [summary, month, recent, hourly, failures, sourceList] = await Promise.all([
      incidentQueries.summarize({ ...day, bucketMs: HOUR, topTactics: 5 }),
      this.#monthSummary(now),
      agencyCounts({ time: { from: now - RATE_WINDOW_MS, to: now + 1 } }),
      agencyCounts({ time: lastHour }),
      agencyCounts({ time: lastHour, filters: { 'event.kind': 'pipeline_error' } }),
      this.sources.inventory?.list({}),
    ]);
    // Last heard per agency: from the inventory's receive times (what "no logs received" means, and a
    // read of a few hundred rows) when there is one, else the events' newest timestamps.
    const lastSeenBy = sourceList
      ? lastReceivedByAgency(sourceList, now - 24 * HOUR)
      : new Map(
          (events.lastSeenBy
            ? await events.lastSeenBy({ time: { from: now - 24 * HOUR, to: now + 1 } }, 'agency.id', 1000)
            : []
          ).map((entry) => [String(entry.key), Date.parse(entry.lastSeen)]),
        );
    const ids = new Set<string>([
      ...(agencies?.agencies.map((agency) => agency.id) ?? []),
      ...summary.open.map((cell) => cell.agency),
      ...lastSeenBy.keys(),
    ]);
    const silentBefore = now - THRESHOLDS.silenceMinutes * 60_000;
    const silentHosts = await this.#silentHosts([...ids], now, silentBefore, sourceList);
    const counts = (values: { buckets: { key: string | number; count: number }[] } | undefined) =>
      new Map((values?.buckets ?? []).map((bucket) => [String(bucket.key), bucket.count]));
    const recentBy = counts(recent);
    const hourlyBy = counts(hourly);
    const failuresBy = counts(failures);
    const histograms = await this.#trendByAgency(summary, [...ids], day);

    const tiles = [...ids].sort().map((id) => {
      const directory = agencies?.get(id);
      const last = lastSeenBy.get(id);
      return buildTile({
        agency: id,
        name: directory ? { vi: directory.name_vi, en: directory.name_en } : { vi: id, en: id },
        open: summary.open.filter((cell) => cell.agency === id),
        created24h: summary.created.filter((cell) => cell.agency === id),
        created30d: month.created.filter((cell) => cell.agency === id),
        trend: histograms.get(id) ?? new Array(24).fill(0),
        silentSources: silentHosts.get(id) ?? 0,
        agencySilent: last !== undefined && last < silentBefore,
        events: hourlyBy.get(id) ?? 0,
        failures: failuresBy.get(id) ?? 0,
        recent: recentBy.get(id) ?? 0,
        tactics: summary.tacticsByAgency.filter((row) => row.agency === id),
      });
    });
    const province = buildTile({
      agency: 'province',
      name: PROVINCE,
      open: summary.open,
      created24h: summary.created,
      created30d: month.created,
      trend: summary.createdHistogram.map((bucket) => bucket.count),
      silentSources: tiles.reduce((sum, tile) => sum + tile.silentSources, 0),
      agencySilent: false,
      events: sum(hourlyBy),
      failures: sum(failuresBy),
      recent: sum(recentBy),
      tactics: summary.topTactics,
    });
    const silentAgencies = tiles.filter((tile) =>
      tile.reasons.some((reason) => reason.code === 'agency_silent'),
    );
    if (silentAgencies.length > 0) {
      province.reasons.push({
        code: 'agencies_silent',
        vi: `${silentAgencies.length} đơn vị không gửi nhật ký trong ${THRESHOLDS.silenceMinutes} phút`,
        en: `${silentAgencies.length} agencies sent no logs for ${THRESHOLDS.silenceMinutes} minutes`,
      });
      if (province.status === 'green') {
        province.status = 'amber';
        province.reasons = province.reasons.filter((reason) => reason.code !== 'ok');
      }
    }
    const content = { province, agencies: tiles };
    const etag = createHash('sha256').update(JSON.stringify(content)).digest('base64url').slice(0, 27);
    return { generatedAt: new Date(now).toISOString(), ...content, etag };
  }

  /**
   * The 30-day figures: computed with the first snapshot, then refreshed in the background once they are
   * older than MONTH_STATS_TTL_MS — a snapshot answers with the previous figures meanwhile, so the
   * month's aggregation (the costliest, 150–250 ms over 100k incidents) is never on a wall's request path.
   */
  #monthSummary(now: number): Promise<IncidentSummary> {
    if (!this.#month) this.#month = this.#summarizeMonth(now);
    else if (now - this.#month.at >= Math.max(this.ttlMs, MONTH_STATS_TTL_MS) && !this.#monthRefresh) {
      // After this snapshot is out (a timer, not a microtask), and kept only if it succeeds.
      this.#monthRefresh = setTimeout(() => {
        const next = this.#summarizeMonth(Date.now());
        next.summary
          .then(
            () => {
              this.#month = next;
            },
            () => {},
          )
          .finally(() => {
            this.#monthRefresh = undefined;
          });
      }, 0);
      this.#monthRefresh.unref?.();
    }
    return this.#month.summary;
  }

  #summarizeMonth(now: number): { summary: Promise<IncidentSummary>; at: number } {
    const summary = this.sources.incidentQueries.summarize({
      from: new Date(now - 30 * 24 * HOUR).toISOString(),
      to: new Date(now + 1).toISOString(),
      bucketMs: 30 * 24 * HOUR,
    });
    const month = { summary, at: now };
    // A failed first computation is not kept: the next snapshot tries again.
    summary.catch(() => {
      if (this.#month === month) this.#month = undefined;
    });
    return month;
  }

  /** Hosts per agency heard in the last 24 h but not since `silentBefore`. */
  async #silentHosts(
    agencyIds: string[],
    now: number,
    silentBefore: number,
    sourceList: SourceRecord[] | undefined,
  ): Promise<Map<string, number>> {
    const result = new Map<string, number>();
    if (sourceList) {
      const silent = new Map<string, Set<string>>();
      for (const source of sourceList) {
        const last = Date.parse(source.lastSeen);
        if (last < now - 24 * HOUR || last >= silentBefore) continue;
        const hosts = silent.get(source.agency) ?? new Set<string>();
        hosts.add(source.host);
        silent.set(source.agency, hosts);
      }
      for (const id of agencyIds) result.set(id, silent.get(id)?.size ?? 0);
      return result;
    }
    const lastSeenBy = this.sources.events.lastSeenBy?.bind(this.sources.events);
    if (!lastSeenBy) return result;
    const queue = [...agencyIds];
    const worker = async () => {
      for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
        const hosts = await lastSeenBy(
          { agencies: [id], time: { from: now - 24 * HOUR, to: now + 1 } },
          'host.hostname',
          1000,
        );
        result.set(id, hosts.filter((host) => Date.parse(host.lastSeen) < silentBefore).length);
      }
    };
    await Promise.all(Array.from({ length: Math.min(6, agencyIds.length) }, worker));
    return result;
  }

  /** Hourly new incidents per agency (one summary per agency that had incidents in the window). */
  async #trendByAgency(
    summary: IncidentSummary,
    agencyIds: string[],
    day: { from: string; to: string },
  ): Promise<Map<string, number[]>> {
    const result = new Map<string, number[]>();
    if (summary.createdHistogramByAgency) {
      // One aggregation for every agency (the store gives it): no summary per agency.
      for (const { agency, counts } of summary.createdHistogramByAgency) result.set(agency, counts);
      return result;
    }
    const busy = new Set(summary.created.map((cell) => cell.agency));
    await Promise.all(
      agencyIds
        .filter((id) => busy.has(id))
        .map(async (id) => {
          const own = await this.sources.incidentQueries.summarize({
            agencies: [id],
            ...day,
            bucketMs: HOUR,
            topTactics: 1,
          });
          result.set(
            id,
            own.createdHistogram.map((bucket) => bucket.count),
          );
        }),
    );
    return result;
  }
}

function sum(map: Map<string, number>): number {
  let total = 0;
  for (const value of map.values()) total += value;
  return total;
}

function buildTile(input: {
  agency: string;
  name: { vi: string; en: string };
  open: { severity: Severity; count: number }[];
  created24h: IncidentCell[];
  created30d: IncidentCell[];
  trend: number[];
  silentSources: number;
  agencySilent: boolean;
  events: number;
  failures: number;
  recent: number;
  tactics: { tactic: string; count: number }[];
}): Tile {
  const open = { critical: 0, high: 0, medium: 0, low: 0 };
  for (const cell of input.open) open[cell.severity] += cell.count;
  const month = combineCells(input.created30d);
  const parseFailureRate =
    input.events === 0 ? 0 : Math.round((input.failures / input.events) * 10_000) / 10_000;
  const { status, reasons } = tileStatus({
    open,
    silentSources: input.silentSources,
    agencySilent: input.agencySilent,
    parseFailureRate,
    meanTimeToAcknowledgeMs: month.meanTimeToAcknowledgeMs,
  });
  return {
    agency: input.agency,
    name: input.name,
    status,
    reasons,
    openIncidents: { ...open, total: open.critical + open.high + open.medium + open.low },
    new24h: combineCells(input.created24h).count,
    trend24h: input.trend,
    mttaMs: month.meanTimeToAcknowledgeMs,
    mttrMs: month.meanTimeToResolveMs,
    silentSources: input.silentSources,
    parseFailureRate,
    eventsPerSecond: Math.round((input.recent / (RATE_WINDOW_MS / 1000)) * 100) / 100,
    topTactics: input.tactics.map(({ tactic, count }) => ({ tactic, count })),
  };
}
