/**
 * Agencies and sources: the directory with each agency's sources, the inventory's view (rate over the last
 * complete slot, failure rate, silent flag) and agency scope on both routes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SourceRecord } from '../core/ports.js';
import { SOURCE_SLOT_MS } from '../store/source-inventory.js';
import { sourceView } from './routes/inventory.js';
import { AGENCY_A, AGENCY_B, type Harness, openHarness } from './testing/harness.js';

describe('source view', () => {
  const now = Math.floor(Date.parse('2025-03-01T10:07:00Z') / SOURCE_SLOT_MS) * SOURCE_SLOT_MS + 120_000;
  const slot = (back: number) =>
    new Date(Math.floor(now / SOURCE_SLOT_MS) * SOURCE_SLOT_MS - back * SOURCE_SLOT_MS).toISOString();
  const record = (overrides: Partial<SourceRecord>): SourceRecord => ({
    id: 's1',
    agency: AGENCY_A,
    host: 'web01',
    listener: 'syslog-tcp',
    parsers: ['nginx.access'],
    firstSeen: '2025-02-01T00:00:00.000Z',
    lastSeen: new Date(now - 1000).toISOString(),
    events: 10_000,
    parseFailures: 100,
    current: { start: slot(0), events: 50, parseFailures: 5 },
    previous: { start: slot(1), events: 600, parseFailures: 0 },
    ...overrides,
  });

  it('gives the rate of the last complete slot and the failure rate of the recent ones', () => {
    expect(sourceView(record({}), now)).toMatchObject({
      eventsPerSecond: 2,
      parseFailureRate: 0.0077,
      silent: false,
    });
  });

  it('falls back to the totals when the source has been quiet, and flags it silent after 30 minutes', () => {
    const quiet = record({
      lastSeen: new Date(now - 31 * 60_000).toISOString(),
      current: { start: slot(8), events: 10, parseFailures: 0 },
      previous: { start: slot(9), events: 10, parseFailures: 0 },
    });
    expect(sourceView(quiet, now)).toMatchObject({
      eventsPerSecond: 0,
      parseFailureRate: 0.01,
      silent: true,
    });
  });
});

describe('agencies and sources routes', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await openHarness('embedded');
    const now = Date.now();
    const seen = (agency: string, host: string, ago: number) => ({
      agency,
      host,
      listener: 'syslog-udp',
      parsers: ['system.auth'],
      events: 10,
      parseFailures: 1,
      firstSeen: new Date(now - ago - 1000).toISOString(),
      lastSeen: new Date(now - ago).toISOString(),
    });
    await h.apiStores.sources.record([
      seen(AGENCY_A, 'web01', 1000),
      seen(AGENCY_A, 'db01', 45 * 60_000),
      seen(AGENCY_B, 'fw01', 1000),
    ]);
  });
  afterAll(async () => {
    await h?.dispose();
  });

  it('lists the directory with names in both languages and source counts, within the scope', async () => {
    const all = (await h.call('GET', '/api/agencies', h.key.analyst)).json();
    expect(all.agencies.map((agency: { id: string }) => agency.id)).toEqual([AGENCY_A, AGENCY_B]);
    expect(all.agencies[0]).toMatchObject({
      name: { vi: 'Sở Thông tin và Truyền thông', en: 'Department of Information and Communications' },
      kind: 'department',
      sources: 2,
      silentSources: 1,
    });
    const scoped = (await h.call('GET', '/api/agencies', h.key.agencyB)).json();
    expect(scoped.agencies.map((agency: { id: string }) => agency.id)).toEqual([AGENCY_B]);
    expect((await h.call('GET', '/api/agencies', h.key.ioc)).statusCode).toBe(403);
  });

  it('lists sources with the silent flag, scoped and filtered', async () => {
    const all = (await h.call('GET', '/api/sources', h.key.analyst)).json();
    expect(all.sources.map((source: { host: string }) => source.host)).toEqual(['db01', 'web01', 'fw01']);
    const silent = (await h.call('GET', '/api/sources?silent=true', h.key.analyst)).json();
    expect(silent.sources.map((source: { host: string; silent: boolean }) => source.host)).toEqual(['db01']);
    // Asking for another agency only narrows the scope (to nothing).
    const narrowed = (await h.call('GET', `/api/sources?agency=${AGENCY_A}`, h.key.agencyB)).json();
    expect(narrowed).toEqual({ total: 0, sources: [] });
    const own = (await h.call('GET', '/api/sources', h.key.agencyB)).json();
    expect(own.sources).toEqual([expect.objectContaining({ host: 'fw01', events: 10, parseFailures: 1 })]);
  });
});
