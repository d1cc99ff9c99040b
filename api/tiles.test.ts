import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { EventStore, IncidentCell, IncidentQueries, IncidentSummary } from '../core/ports.js';
import { event, incident } from './testing/fixtures.js';
import { AGENCY_A, AGENCY_B, type Harness, openHarness } from './testing/harness.js';
import { MONTH_STATS_TTL_MS, TilesService } from './tiles/snapshot.js';
import { tileStatus } from './tiles/status.js';

describe('tile status rules', () => {
  const calm = {
    open: { critical: 0, high: 0, medium: 2, low: 5 },
    silentSources: 0,
    agencySilent: false,
    parseFailureRate: 0.01,
    meanTimeToAcknowledgeMs: 60_000,
  };
  it('is green when calm, amber on warnings, red on critical, with reasons in both languages', () => {
    expect(tileStatus(calm).status).toBe('green');
    const amber = tileStatus({ ...calm, open: { ...calm.open, high: 1 }, parseFailureRate: 0.2 });
    expect(amber.status).toBe('amber');
    expect(amber.reasons.map((r) => r.code)).toEqual(['high_open', 'parse_failures']);
    expect(amber.reasons[1]).toEqual({
      code: 'parse_failures',
      vi: '20.0% nhật ký không phân tích được',
      en: '20.0% of logs could not be parsed',
    });
    expect(tileStatus({ ...calm, open: { ...calm.open, critical: 1 } }).status).toBe('red');
    expect(tileStatus({ ...calm, open: { ...calm.open, high: 3 } }).status).toBe('red');
    expect(tileStatus({ ...calm, agencySilent: true }).reasons[0]!.code).toBe('agency_silent');
    expect(tileStatus({ ...calm, meanTimeToAcknowledgeMs: 3_600_000 }).status).toBe('amber');
  });
});

describe.each(['embedded', 'scale'] as const)('IOC tiles (%s)', (mode) => {
  let h: Harness;
  beforeAll(async () => {
    h = await openHarness(mode, { tilesTtlMs: 60_000 });
    const now = Date.now();
    const ago = (ms: number) => new Date(now - ms).toISOString();
    await h.events.index([
      event('t-e1', AGENCY_A, ago(60_000), { host: { hostname: 'web-1' } }),
      event('t-e2', AGENCY_A, ago(2 * 3_600_000), { host: { hostname: 'db-1' } }),
      // A parse failure as the normaliser writes it (the tile counts event.kind pipeline_error).
      event('t-e3', AGENCY_A, ago(30_000), {
        host: { hostname: 'web-1' },
        tags: ['_parse_failure'],
        event: { kind: 'pipeline_error' },
      }),
      event('t-e4', AGENCY_B, ago(3 * 3_600_000), { host: { hostname: 'fw-1' } }),
    ]);
    // What the workers record of the same records in the source inventory (silent hosts come from it).
    const seen = (agency: string, host: string, ms: number, failures = 0) => ({
      agency,
      host,
      listener: 'syslog-udp',
      parsers: [],
      events: 1,
      parseFailures: failures,
      firstSeen: ago(ms),
      lastSeen: ago(ms),
    });
    await h.apiStores.sources.record([
      seen(AGENCY_A, 'web-1', 60_000),
      seen(AGENCY_A, 'db-1', 2 * 3_600_000),
      seen(AGENCY_A, 'web-1', 30_000, 1),
      seen(AGENCY_B, 'fw-1', 3 * 3_600_000),
    ]);
    await h.incidents.create(
      incident('ti-a1', AGENCY_A, { severity: 'critical', tactics: ['credential_access'] }),
    );
    await h.incidents.create(incident('ti-a2', AGENCY_A, { severity: 'medium', tactics: ['discovery'] }));
    await h.incidents.create(
      incident('ti-b1', AGENCY_B, { severity: 'low', status: 'resolved', tactics: [] }),
    );
    await h.refresh();
  });
  afterAll(async () => {
    await h?.dispose();
  });

  it('serves the province and every agency with status, reasons, counts and trends', async () => {
    const response = await h.call('GET', '/api/ioc/tiles', h.key.ioc);
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body).toMatchObject({ schema: 'siem-lite/ioc-tiles', version: 1 });
    const a = body.agencies.find((tile: { agency: string }) => tile.agency === AGENCY_A);
    const b = body.agencies.find((tile: { agency: string }) => tile.agency === AGENCY_B);
    expect(a).toMatchObject({
      status: 'red',
      name: { vi: 'Sở Thông tin và Truyền thông' },
      openIncidents: { critical: 1, medium: 1, total: 2 },
      new24h: 2,
      silentSources: 1,
      parseFailureRate: 0.5,
      topTactics: [
        { tactic: 'credential_access', count: 1 },
        { tactic: 'discovery', count: 1 },
      ],
    });
    expect(a.reasons.map((r: { code: string }) => r.code)).toEqual([
      'critical_open',
      'sources_silent',
      'parse_failures',
    ]);
    expect(a.trend24h).toHaveLength(24);
    expect(a.trend24h.reduce((x: number, y: number) => x + y, 0)).toBe(2);
    expect(a.eventsPerSecond).toBeCloseTo(2 / 300, 2);
    // B sent logs 3 h ago and nothing since: silent.
    expect(b.status).toBe('red');
    expect(b.reasons[0].code).toBe('agency_silent');
    expect(body.province).toMatchObject({
      agency: 'province',
      status: 'red',
      openIncidents: { total: 2 },
      new24h: 3,
    });
  });

  it('answers 304 to a poll with the current ETag, and caches briefly', async () => {
    const first = await h.call('GET', `/api/ioc/tiles/${AGENCY_A}`, h.key.ioc);
    expect(first.headers['cache-control']).toBe('private, max-age=5, must-revalidate');
    const etag = first.headers.etag as string;
    const again = await h.call('GET', `/api/ioc/tiles/${AGENCY_A}`, h.key.ioc, undefined, {
      'if-none-match': etag,
    });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe('');
    const whole = await h.call('GET', '/api/ioc/tiles', h.key.ioc);
    const wholeAgain = await h.call('GET', '/api/ioc/tiles', h.key.ioc, undefined, {
      'if-none-match': whole.headers.etag as string,
    });
    expect(wholeAgain.statusCode).toBe(304);
  });

  it('gives a scoped key only its agencies', async () => {
    const body = (await h.call('GET', '/api/ioc/tiles', h.key.iocA)).json();
    expect(body.province).toBeUndefined();
    expect(body.agencies.map((tile: { agency: string }) => tile.agency)).toEqual([AGENCY_A]);
    expect((await h.call('GET', `/api/ioc/tiles/${AGENCY_B}`, h.key.iocA)).statusCode).toBe(404);
    expect((await h.call('GET', '/api/ioc/tiles/province', h.key.iocA)).statusCode).toBe(404);
    expect((await h.call('GET', `/api/ioc/tiles/${AGENCY_A}`, h.key.iocA)).statusCode).toBe(200);
    expect((await h.call('GET', '/api/ioc/tiles', h.key.ingest)).statusCode).toBe(403);
  });
});

describe('TilesService month figures', () => {
  it('answers with the previous 30-day figures while it refreshes them in the background', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      let monthCalls = 0;
      let mtta = 60_000;
      const summary = (created: IncidentCell[]): IncidentSummary => ({
        open: [],
        created,
        createdHistogram: [],
        topTactics: [],
        tacticsByAgency: [],
      });
      const incidentQueries = {
        summarize: async (query: { bucketMs?: number }) => {
          if (query.bucketMs !== 30 * 24 * 3_600_000) return summary([]);
          monthCalls++;
          const cell = { agency: AGENCY_A, severity: 'high' as const, count: 1, acknowledged: 1 };
          return summary([{ ...cell, meanTimeToAcknowledgeMs: mtta, closed: 0, meanTimeToResolveMs: null }]);
        },
      } as unknown as IncidentQueries;
      const tiles = new TilesService({ events: {} as EventStore, incidentQueries }, 1000);
      const mttaOf = async () => (await tiles.snapshot()).province.mttaMs;
      expect(await mttaOf()).toBe(60_000);
      mtta = 120_000;
      vi.setSystemTime(Date.now() + MONTH_STATS_TTL_MS + 1);
      // Stale: this snapshot still carries the old figures; the refresh runs after it.
      expect(await mttaOf()).toBe(60_000);
      expect(monthCalls).toBe(1);
      await new Promise((resolve) => setTimeout(resolve, 10));
      expect(monthCalls).toBe(2);
      vi.setSystemTime(Date.now() + 2000);
      expect(await mttaOf()).toBe(120_000);
    } finally {
      vi.useRealTimers();
    }
  });
});
