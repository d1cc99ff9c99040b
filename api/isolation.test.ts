/**
 * Agency isolation, attacked: a key scoped to agency A tries every way to read or change agency B's data.
 * Each attempt must answer only A's data, or 404 (B's objects are not disclosed as existing). Runs in
 * both modes, on the real stores.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { event, incident } from './testing/fixtures.js';
import { AGENCY_A, AGENCY_B, type Harness, openHarness } from './testing/harness.js';

describe.each(['embedded', 'scale'] as const)('agency isolation (%s)', (mode) => {
  let h: Harness;
  let versionB: string;
  beforeAll(async () => {
    h = await openHarness(mode);
    const at = new Date(Date.now() - 60_000).toISOString();
    await h.events.index([
      event('iso-a1', AGENCY_A, at, { user: { name: 'shared' } }),
      event('iso-b1', AGENCY_B, at, { user: { name: 'shared' } }),
      event('iso-b2', AGENCY_B, at, { user: { name: 'only-b' } }),
    ]);
    await h.incidents.create(incident('inc-a', AGENCY_A, { evidenceEventIds: ['iso-a1'] }));
    await h.incidents.create(incident('inc-b', AGENCY_B, { evidenceEventIds: ['iso-b1', 'iso-b2'] }));
    await h.refresh();
    versionB = (await h.incidents.get('inc-b'))!.version;
  });
  afterAll(async () => {
    await h?.dispose();
  });

  const get = (url: string, key = h.key.agencyA) => h.call('GET', url, key);
  const ids = (list: { id: string }[]) => list.map((item) => item.id).sort();
  const eventIds = (list: { event: { id: string } }[]) => list.map((item) => item.event.id).sort();

  it('lists only its own incidents, whatever agency the query string names', async () => {
    for (const query of ['', `agency=${AGENCY_B}`, `agency=${AGENCY_A}&agency=${AGENCY_B}`, `q=inc-b`]) {
      const body = (await get(`/api/incidents?${query}`)).json();
      expect(
        ids(body.incidents).every((id) => id === 'inc-a'),
        query,
      ).toBe(true);
    }
    expect(ids((await get(`/api/incidents?agency=${AGENCY_B}`)).json().incidents)).toEqual([]);
    // The province analyst sees both.
    expect(ids((await get('/api/incidents', h.key.analyst)).json().incidents)).toEqual(['inc-a', 'inc-b']);
  });

  it("answers 404 for another agency's incident, on every read and write", async () => {
    const attempts = [
      () => get('/api/incidents/inc-b'),
      () => h.call('PATCH', '/api/incidents/inc-b', h.key.agencyA, { version: versionB, status: 'resolved' }),
      () => h.call('POST', '/api/incidents/inc-b/notes', h.key.agencyA, { text: 'pwned' }),
      () =>
        h.call('POST', '/api/incidents/inc-a/merge', h.key.agencyA, {
          version: '1',
          source: 'inc-b',
          sourceVersion: versionB,
        }),
      () =>
        h.call('POST', '/api/incidents/inc-b/merge', h.key.agencyA, {
          version: versionB,
          source: 'inc-a',
          sourceVersion: '1',
        }),
    ];
    for (const attempt of attempts) {
      const response = await attempt();
      expect(response.statusCode).toBe(404);
      expect(response.json().error.code).toBe('not_found');
      expect(response.body).not.toContain('only-b');
    }
    const bulk = await h.call('POST', '/api/incidents/bulk', h.key.agencyA, {
      ids: ['inc-b'],
      changes: { status: 'resolved' },
    });
    expect(bulk.json().results).toEqual([{ id: 'inc-b', outcome: 'not_found' }]);
    const untouched = await h.incidents.get('inc-b');
    expect(untouched?.value.status).toBe('new');
    expect(untouched?.value.notes).toBeUndefined();
  });

  it('exports and aggregates only its own incidents', async () => {
    const csv = (await get(`/api/incidents/export?format=csv&agency=${AGENCY_B}`)).body;
    expect(csv).not.toContain('inc-b');
    const json = (await get('/api/incidents/export?format=json')).json();
    expect(ids(json)).toEqual(['inc-a']);
    const stats = (await get(`/api/incidents/stats?agency=${AGENCY_B}`)).json();
    expect(stats.total.count).toBe(0);
    expect(stats.open).toEqual([]);
    const own = (await get('/api/incidents/stats')).json();
    expect(own.open).toEqual([{ agency: AGENCY_A, severity: 'high', count: 1 }]);
  });

  it('searches only its own events, whatever the filters or query name', async () => {
    const urls = [
      '/api/events',
      `/api/events?agency=${AGENCY_B}`,
      `/api/events?filter=${encodeURIComponent(`agency.id:${AGENCY_B}`)}`,
      `/api/events?q=${encodeURIComponent(`agency.id:${AGENCY_B}`)}`,
      `/api/events?q=${encodeURIComponent(`agency.id:${AGENCY_B} or agency.id:${AGENCY_A}`)}`,
      `/api/events?q=${encodeURIComponent('user.name:shared or not user.name:shared')}`,
      `/api/events?q=${encodeURIComponent('only-b')}`,
    ];
    for (const url of urls) {
      const response = await get(url);
      expect(response.statusCode, url).toBe(200);
      expect(
        eventIds(response.json().events).every((id) => id === 'iso-a1'),
        url,
      ).toBe(true);
    }
    expect((await get('/api/events/iso-b1')).statusCode).toBe(404);
    expect((await get('/api/events/iso-a1')).statusCode).toBe(200);
  });

  it('aggregates only its own events', async () => {
    const top = (await get(`/api/events/top?field=user.name&agency=${AGENCY_B}`)).json();
    expect(top.buckets).toEqual([]);
    const own = (await get('/api/events/top?field=agency.id')).json();
    expect(own.buckets).toEqual([{ key: AGENCY_A, count: 1 }]);
    const from = new Date(Date.now() - 3_600_000).toISOString();
    const to = new Date(Date.now() + 60_000).toISOString();
    const histogram = (await get(`/api/events/histogram?from=${from}&to=${to}&interval=1h`)).json();
    expect(histogram.buckets.reduce((sum: number, b: { count: number }) => sum + b.count, 0)).toBe(1);
  });

  it("hides another agency's evidence inside its own incident's detail", async () => {
    // An incident of A naming B's event ids as evidence (a bug or a forged record) still shows only A's events.
    await h.incidents.create(incident('inc-a-forged', AGENCY_A, { evidenceEventIds: ['iso-b1', 'iso-a1'] }));
    await h.refresh();
    const detail = (await get('/api/incidents/inc-a-forged')).json();
    expect(eventIds(detail.evidence)).toEqual(['iso-a1']);
    expect(detail.related.every((r: { agency: string }) => r.agency === AGENCY_A)).toBe(true);
  });
});
