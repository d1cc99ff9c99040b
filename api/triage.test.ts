import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { event, incident } from './testing/fixtures.js';
import { AGENCY_A, type Harness, openHarness } from './testing/harness.js';

describe('incident triage', () => {
  let h: Harness;
  const hour = 3_600_000;
  beforeAll(async () => {
    h = await openHarness('embedded');
    const now = Date.now();
    await h.events.index([
      event('ev-1', AGENCY_A, new Date(now - 2 * hour).toISOString(), { source: { ip: '203.0.113.5' } }),
      event('ev-2', AGENCY_A, new Date(now - hour).toISOString(), { source: { ip: '203.0.113.5' } }),
    ]);
    await h.incidents.create(incident('t-1', AGENCY_A, { evidenceEventIds: ['ev-1', 'ev-2'] }));
    await h.incidents.create(
      incident('t-2', AGENCY_A, {
        severity: 'low',
        groupBy: { 'source.ip': '203.0.113.5' },
        ruleId: 'other',
      }),
    );
    await h.incidents.create(
      incident('t-3', AGENCY_A, { title: '=HYPERLINK("http://x")', severity: 'critical' }),
    );
    await h.incidents.create(incident('t-4', AGENCY_A, { groupBy: { 'user.name': 'mallory' } }));
    await h.refresh();
  });
  afterAll(async () => {
    await h?.dispose();
  });

  const read = async (id: string) => (await h.call('GET', `/api/incidents/${id}`, h.key.analyst)).json();

  it('shows an incident with its evidence, related incidents and version', async () => {
    const detail = await read('t-1');
    expect(detail.incident.id).toBe('t-1');
    expect(detail.version).toEqual(expect.any(String));
    expect(detail.evidence.map((e: { event: { id: string } }) => e.event.id).sort()).toEqual([
      'ev-1',
      'ev-2',
    ]);
    expect(detail.related.map((r: { id: string }) => r.id).sort()).toEqual(['t-2', 't-3']);
    expect(detail.related[0].shared).toEqual({ 'source.ip': '203.0.113.5' });
  });

  it('walks the life cycle with the version read, times each step and refuses stale or illegal changes', async () => {
    let { version } = await read('t-1');
    const ack = await h.call('PATCH', '/api/incidents/t-1', h.key.analyst, {
      version,
      status: 'acknowledged',
      assignee: 'an.nguyen',
    });
    expect(ack.statusCode).toBe(200);
    expect(ack.json().incident).toMatchObject({ status: 'acknowledged', assignee: 'an.nguyen' });
    expect(ack.json().incident.timeToAcknowledgeMs).toBeGreaterThanOrEqual(3_000_000);
    // Someone who read the old version loses, and sees the current state.
    const stale = await h.call('PATCH', '/api/incidents/t-1', h.key.analyst, { version, status: 'resolved' });
    expect(stale.statusCode).toBe(409);
    expect(stale.json().error.details.incident.status).toBe('acknowledged');
    version = ack.json().version;
    const back = await h.call('PATCH', '/api/incidents/t-1', h.key.analyst, { version, status: 'new' });
    expect(back.statusCode).toBe(422);
    expect(back.json().error.code).toBe('invalid_transition');
    const resolved = await h.call('PATCH', '/api/incidents/t-1', h.key.analyst, {
      version,
      status: 'resolved',
      reason: 'blocked at the firewall',
    });
    expect(resolved.json().incident.timeToResolveMs).toBeGreaterThanOrEqual(3_000_000);
    const reopened = await h.call('PATCH', '/api/incidents/t-1', h.key.analyst, {
      version: resolved.json().version,
      status: 'in_progress',
    });
    expect(reopened.json().incident.closedAt).toBeUndefined();
    expect(reopened.json().incident.acknowledgedAt).toBe(ack.json().incident.acknowledgedAt);
    const actions = reopened.json().incident.timeline.map((e: { action: string }) => e.action);
    expect(actions).toEqual(['opened', 'status_changed', 'assigned', 'status_changed', 'reopened']);
    await h.refresh();
    const audit = (await h.call('GET', '/api/audit?target=t-1', h.key.admin)).json().entries;
    expect(audit).toHaveLength(3);
    expect(audit[2]).toMatchObject({
      action: 'incident.update',
      actor: 'province analyst',
      before: { status: 'new', assignee: null },
      after: { status: 'acknowledged', assignee: 'an.nguyen' },
    });
  });

  it('adds notes, applies bulk changes and reports each outcome', async () => {
    const note = await h.call('POST', '/api/incidents/t-2/notes', h.key.agencyA, {
      text: 'Quét từ mạng ngoài',
    });
    expect(note.statusCode).toBe(201);
    expect((await read('t-2')).incident.notes).toEqual([note.json()]);
    const bulk = await h.call('POST', '/api/incidents/bulk', h.key.analyst, {
      ids: ['t-2', 't-4', 'missing'],
      changes: { status: 'false_positive', addTags: ['scanner'] },
    });
    expect(bulk.json().results).toEqual([
      { id: 't-2', outcome: 'updated' },
      { id: 't-4', outcome: 'updated' },
      { id: 'missing', outcome: 'not_found' },
    ]);
    expect((await read('t-4')).incident).toMatchObject({ status: 'false_positive', tags: ['scanner'] });
  });

  it('merges one incident into another of the same agency', async () => {
    const target = await read('t-3');
    const source = await read('t-4');
    const merged = await h.call('POST', '/api/incidents/t-3/merge', h.key.analyst, {
      version: target.version,
      source: 't-4',
      sourceVersion: source.version,
    });
    expect(merged.statusCode).toBe(200);
    expect(merged.json().target.incident.detectionCount).toBe(6);
    expect(merged.json().source.incident).toMatchObject({ mergedInto: 't-3', status: 'false_positive' });
    const again = await h.call('POST', '/api/incidents/t-3/merge', h.key.analyst, {
      version: merged.json().target.version,
      source: 't-4',
      sourceVersion: merged.json().source.version,
    });
    expect(again.statusCode).toBe(422);
  });

  it('lists with filters, sort and paging', async () => {
    const list = async (query: string) =>
      (await h.call('GET', `/api/incidents?${query}`, h.key.analyst)).json();
    await expect(
      list('severity=critical').then((r) => r.incidents.map((i: { id: string }) => i.id)),
    ).resolves.toEqual(['t-3']);
    const first = await list('sort=severity&order=desc&limit=2');
    expect(first.total).toBe(4);
    const second = await list(`sort=severity&order=desc&limit=2&after=${first.next}`);
    expect([...first.incidents, ...second.incidents].map((i: { id: string }) => i.id)).toEqual([
      't-3',
      't-4',
      't-1',
      't-2',
    ]);
    expect((await list('unassigned=true&status=new')).incidents.map((i: { id: string }) => i.id)).toEqual([
      't-3',
    ]);
    expect((await list('assignee=an.nguyen')).incidents.map((i: { id: string }) => i.id)).toEqual(['t-1']);
    expect((await list('tactic=credential_access&q=brute')).total).toBe(3);
    // List items are the list fields and the stored version, not the whole incident (docs/api.md).
    const [item] = (await list('severity=critical')).incidents;
    const detail = (await h.call('GET', '/api/incidents/t-3', h.key.analyst)).json();
    expect(item.version).toBe(detail.version);
    for (const field of ['timeline', 'evidenceEventIds', 'appliedBatches', 'dedupKey', 'notes']) {
      expect(item).not.toHaveProperty(field);
    }
    const {
      timeline: _timeline,
      evidenceEventIds: _evidence,
      appliedBatches: _batches,
      dedupKey: _key,
      notes: _notes,
      ...rest
    } = detail.incident;
    expect(item).toEqual({ ...rest, version: detail.version });
  });

  it('exports CSV that a spreadsheet cannot run as formulas, and JSON', async () => {
    const csv = await h.call('GET', '/api/incidents/export?format=csv', h.key.analyst);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    const lines = csv.body.trim().split('\r\n');
    expect(lines[0]).toMatch(/^id,title,severity,status,agency/);
    expect(lines).toHaveLength(5);
    expect(csv.body).toContain(`"'=HYPERLINK(""http://x"")"`);
    const json = await h.call('GET', '/api/incidents/export?format=json&severity=low', h.key.analyst);
    expect(json.json().map((i: { id: string }) => i.id)).toEqual(['t-2']);
  });

  it('reports MTTA and MTTR per agency and severity', async () => {
    const stats = (await h.call('GET', '/api/incidents/stats', h.key.analyst)).json();
    expect(stats.total.count).toBe(4);
    expect(stats.bySeverity.high.acknowledged).toBe(2);
    expect(stats.bySeverity.high.meanTimeToAcknowledgeMs).toBeGreaterThanOrEqual(3_000_000);
    expect(stats.byAgency.every((cell: { agency: string }) => cell.agency === AGENCY_A)).toBe(true);
  });
});
