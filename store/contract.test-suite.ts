/**
 * The store contract: the same cases run against every adapter (imported by the adapters' test files), so
 * the two modes cannot drift apart. Each case writes under its own agency ids, so cases share one store
 * (creating Elasticsearch indices is the slow part) without seeing each other's data.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Detection, Incident, SecurityEvent } from '../core/model.js';
import type { EventStore, IncidentStore } from '../core/ports.js';
import { StoreQueryError } from './errors.js';

export interface StoreUnderTest {
  events: EventStore;
  incidents: IncidentStore;
  /** Stops the store and removes everything it wrote. */
  dispose(): Promise<void>;
}

let agencyCounter = 0;
/** An agency id no other case uses. */
export function freshAgency(): string {
  agencyCounter++;
  return `ag-${process.pid}-${agencyCounter}`;
}

export function makeEvent(
  id: string,
  timestamp: string,
  agency: string,
  fields: Record<string, unknown> = {},
): SecurityEvent {
  return {
    '@timestamp': timestamp,
    message: `event ${id}`,
    ...fields,
    event: {
      id,
      ingested: '2025-03-01T00:00:00.000Z',
      original: `<34>raw line for ${id}`,
      ...((fields.event as Record<string, unknown> | undefined) ?? {}),
    },
    agency: { id: agency },
  };
}

export function makeIncident(id: string, agency: string, overrides: Partial<Incident> = {}): Incident {
  return {
    id,
    title: `Brute force from 203.0.113.5 (${id})`,
    severity: 'high',
    status: 'new',
    agency,
    assignee: null,
    ruleId: 'rule-ssh-brute',
    ruleTitle: 'SSH brute force',
    tactics: ['credential-access'],
    techniques: ['T1110'],
    dedupKey: `rule-ssh-brute|${agency}|203.0.113.5`,
    groupBy: { 'source.ip': '203.0.113.5' },
    firstSeen: '2025-03-01T10:00:00.000Z',
    lastSeen: '2025-03-01T10:05:00.000Z',
    detectionCount: 1,
    evidenceEventIds: ['e1'],
    appliedBatches: ['b1'],
    tags: ['attack.t1110'],
    createdAt: '2025-03-01T10:00:01.000Z',
    updatedAt: '2025-03-01T10:00:01.000Z',
    timeline: [{ at: '2025-03-01T10:00:01.000Z', actor: 'system', action: 'created' }],
    ...overrides,
  };
}

function makeDetection(id: string, agency: string, eventIds: string[], timestamp: string): Detection {
  return {
    id,
    ruleId: 'rule-ssh-brute',
    ruleTitle: 'SSH brute force',
    level: 'high',
    tags: ['attack.t1110'],
    eventIds,
    groupBy: { 'source.ip': '203.0.113.5' },
    agency,
    timestamp,
    batchId: 'batch-1',
  };
}

/**
 * A correlation hit: its id is digest(rule, group, completing hit) and its time the end of the window that hit
 * closed, which depends on the hits present when it fired, so a re-delivery can come with another time.
 */
function makeCorrelationDetection(id: string, agency: string, timestamp: string, batchId: string): Detection {
  return {
    ...makeDetection(id, agency, ['e-1', 'e-2'], timestamp),
    ruleId: 'corr-ssh-brute',
    ruleTitle: 'SSH brute force, correlated',
    batchId,
    firstSeen: '2025-03-01T09:59:00.000Z',
    detectionIds: ['det-e-1', 'det-e-2'],
    agencies: [agency],
    correlation: { type: 'event_count', value: 2 },
  };
}

const ids = (events: SecurityEvent[]) => events.map((event) => event.event.id);

export function describeStoreContract(name: string, open: () => Promise<StoreUnderTest>): void {
  describe(`${name}: store contract`, () => {
    let store: StoreUnderTest;
    let events: EventStore;
    let incidents: IncidentStore;

    beforeAll(async () => {
      store = await open();
      events = store.events;
      incidents = store.incidents;
      await events.init();
      await incidents.init();
    });

    afterAll(async () => {
      await store?.dispose();
    });

    describe('events', () => {
      it('counts a re-delivered batch as duplicates and stores each event once', async () => {
        const agency = freshAgency();
        const batch = [
          makeEvent('dup-1', '2025-03-01T10:00:00.000Z', agency),
          makeEvent('dup-2', '2025-03-01T10:00:01.000Z', agency),
          makeEvent('dup-3', '2025-03-02T23:59:59.999Z', agency),
        ];
        expect(await events.index(batch)).toEqual({ indexed: 3, duplicates: 0, deadLettered: 0 });
        expect(await events.index(batch)).toEqual({ indexed: 0, duplicates: 3, deadLettered: 0 });
        const partly = [batch[0]!, makeEvent('dup-4', '2025-03-01T11:00:00.000Z', agency)];
        expect(await events.index(partly)).toEqual({ indexed: 1, duplicates: 1, deadLettered: 0 });
        await events.refresh();
        expect(await events.count({ agencies: [agency] })).toBe(4);
      });

      it('filters on hot columns, document fields, arrays, IPs, numbers and unmapped fields', async () => {
        const agency = freshAgency();
        await events.index([
          makeEvent('f-1', '2025-03-01T10:00:00.000Z', agency, {
            event: { action: 'ssh_login', outcome: 'failure', category: ['authentication'] },
            source: { ip: '203.0.113.5', port: 50022 },
            user: { name: 'root' },
            tags: ['sshd', 'brute'],
            vendor: { custom: 'alpha', level: 7 },
          }),
          makeEvent('f-2', '2025-03-01T10:00:01.000Z', agency, {
            event: { action: 'ssh_login', outcome: 'success', category: ['authentication', 'session'] },
            source: { ip: '2001:db8::1', port: '22' },
            user: { name: 'Root' },
            tags: ['sshd'],
            vendor: { custom: 'beta', level: '7' },
          }),
          makeEvent('f-3', '2025-03-01T10:00:02.000Z', agency, {
            event: { action: 'http_request' },
            source: { ip: '::ffff:203.0.113.5' },
            host: { ip: ['10.0.0.1', '10.0.0.2'] },
          }),
        ]);
        await events.refresh();
        const find = async (filters: Record<string, string | number | boolean>) =>
          ids((await events.search({ agencies: [agency], filters })).events).sort();
        expect(await find({ 'event.action': 'ssh_login' })).toEqual(['f-1', 'f-2']);
        expect(await find({ 'event.action': 'ssh_login', 'event.outcome': 'failure' })).toEqual(['f-1']);
        expect(await find({ 'user.name': 'root' })).toEqual(['f-1']);
        expect(await find({ 'event.category': 'session' })).toEqual(['f-2']);
        expect(await find({ tags: 'sshd' })).toEqual(['f-1', 'f-2']);
        expect(await find({ 'source.ip': '203.0.113.5' })).toEqual(['f-1', 'f-3']);
        expect(await find({ 'source.ip': '2001:0db8:0:0:0:0:0:1' })).toEqual(['f-2']);
        expect(await find({ 'host.ip': '10.0.0.2' })).toEqual(['f-3']);
        expect(await find({ 'source.port': 22 })).toEqual(['f-2']);
        expect(await find({ 'source.port': '50022' })).toEqual(['f-1']);
        expect(await find({ 'vendor.custom': 'beta' })).toEqual(['f-2']);
        expect(await find({ 'vendor.level': 7 })).toEqual(['f-1', 'f-2']);
        expect(await find({ 'vendor.missing': 'x' })).toEqual([]);
        expect(await find({ 'event.action': 'x'.repeat(2000) })).toEqual([]);
      });

      it('applies the time range (from inclusive, to exclusive) across zones and nanoseconds', async () => {
        const agency = freshAgency();
        await events.index([
          makeEvent('t-1', '2025-03-01T09:59:59.999999999Z', agency),
          makeEvent('t-2', '2025-03-01T17:00:00+07:00', agency),
          makeEvent('t-3', '2025-03-01T10:00:00.000000001Z', agency),
          makeEvent('t-4', '2025-03-01T11:00:00Z', agency),
        ]);
        await events.refresh();
        const page = await events.search({
          agencies: [agency],
          time: { from: '2025-03-01T10:00:00Z', to: '2025-03-01T11:00:00Z' },
        });
        expect(ids(page.events)).toEqual(['t-3', 't-2']);
        expect(page.total).toBe(2);
        expect(
          await events.count({ agencies: [agency], time: { from: Date.parse('2025-03-01T10:00:00Z') } }),
        ).toBe(3);
        expect(await events.count({ agencies: [agency], time: { to: '2025-03-01T10:00:00Z' } })).toBe(1);
      });

      it('keeps agencies apart and treats an empty agency list as no access', async () => {
        const a = freshAgency();
        const b = freshAgency();
        await events.index([
          makeEvent('s-a', '2025-03-01T10:00:00Z', a, { user: { name: 'shared' } }),
          makeEvent('s-b', '2025-03-01T10:00:01Z', b, { user: { name: 'shared' } }),
        ]);
        await events.refresh();
        expect(
          ids((await events.search({ agencies: [a], filters: { 'user.name': 'shared' } })).events),
        ).toEqual(['s-a']);
        expect(
          ids((await events.search({ agencies: [a, b], filters: { 'user.name': 'shared' } })).events),
        ).toEqual(['s-b', 's-a']);
        expect(await events.count({ agencies: [], filters: { 'user.name': 'shared' } })).toBe(0);
        expect((await events.search({ agencies: [] })).events).toEqual([]);
        // Filters cannot widen the scope: agency.id in the filters only narrows it.
        expect(await events.count({ agencies: [a], filters: { 'agency.id': b } })).toBe(0);
      });

      it('pages newest first with a cursor, ties broken by event id, without gaps or repeats', async () => {
        const agency = freshAgency();
        const batch = [];
        for (let i = 0; i < 7; i++) {
          // Two events share each timestamp: the id decides their order.
          const second = String(Math.floor(i / 2)).padStart(2, '0');
          batch.push(makeEvent(`p-${i}`, `2025-03-01T10:00:${second}.000Z`, agency));
        }
        await events.index(batch);
        await events.refresh();
        const seen: string[] = [];
        let after: string | undefined;
        for (let pageNo = 0; pageNo < 10; pageNo++) {
          const page = await events.search({ agencies: [agency], limit: 3, ...(after ? { after } : {}) });
          expect(page.total).toBe(7);
          seen.push(...ids(page.events));
          after = page.next;
          if (after === undefined) break;
        }
        expect(seen).toEqual(['p-6', 'p-5', 'p-4', 'p-3', 'p-2', 'p-1', 'p-0']);
        const last = await events.search({ agencies: [agency], limit: 7 });
        expect(ids(last.events)).toHaveLength(7);
      });

      it('returns the stored document with its original line and a normalised timestamp', async () => {
        const agency = freshAgency();
        await events.index([
          makeEvent('d-1', '2025-03-01T17:00:00.123+07:00', agency, {
            message: 'Đăng nhập thất bại cho người dùng root',
            'source.ip': '198.51.100.7',
          }),
        ]);
        await events.refresh();
        const [event] = (await events.search({ agencies: [agency] })).events;
        expect(event?.['@timestamp']).toBe('2025-03-01T10:00:00.123Z');
        expect(event?.event.original).toBe('<34>raw line for d-1');
        expect(event?.message).toBe('Đăng nhập thất bại cho người dùng root');
        expect((event?.source as { ip?: string } | undefined)?.ip).toBe('198.51.100.7');
        expect(await events.count({ agencies: [agency], filters: { 'source.ip': '198.51.100.7' } })).toBe(1);
      });

      it('sends events the mapping would refuse to the dead-letter store instead of losing them', async () => {
        const agency = freshAgency();
        const result = await events.index([
          makeEvent('x-ok', '2025-03-01T10:00:00Z', agency),
          makeEvent('x-bad-ip', '2025-03-01T10:00:00Z', agency, { source: { ip: 'not-an-ip' } }),
          makeEvent('x-bad-time', 'yesterday', agency),
          makeEvent('x-bad-port', '2025-03-01T10:00:00Z', agency, { destination: { port: 'http' } }),
          makeEvent('x-object', '2025-03-01T10:00:00Z', agency, { source: 'a string where an object goes' }),
        ]);
        expect(result).toEqual({ indexed: 1, duplicates: 0, deadLettered: 4 });
        await events.refresh();
        expect(await events.count({ agencies: [agency] })).toBe(1);
      });

      it('refuses malformed searches with a query error', async () => {
        const agency = freshAgency();
        await expect(events.search({ agencies: [agency], filters: { 'source.ip': 'nope' } })).rejects.toThrow(
          StoreQueryError,
        );
        await expect(events.search({ agencies: [agency], filters: { 'source.port': 'x' } })).rejects.toThrow(
          StoreQueryError,
        );
        await expect(events.search({ agencies: [agency], filters: { 'a"b': 'x' } })).rejects.toThrow(
          StoreQueryError,
        );
        await expect(
          events.search({ agencies: [agency], filters: { 'event.original': 'x' } }),
        ).rejects.toThrow(StoreQueryError);
        await expect(events.search({ agencies: [agency], limit: 0 })).rejects.toThrow(StoreQueryError);
        await expect(events.search({ agencies: [agency], after: 'garbage' })).rejects.toThrow(
          StoreQueryError,
        );
        await expect(events.search({ agencies: [agency], time: { from: 'soon' } })).rejects.toThrow(
          StoreQueryError,
        );
      });
      it('retention removes whole UTC days before the cutoff day, and only those', async () => {
        const agency = freshAgency();
        await events.index([
          makeEvent('r-1', '2024-01-01T00:00:00.000Z', agency, { message: 'retention probe' }),
          makeEvent('r-2', '2024-01-02T23:59:59.999999999Z', agency, { message: 'retention probe' }),
          makeEvent('r-3', '2024-01-03T00:00:00.000Z', agency, { message: 'retention probe' }),
          makeEvent('r-4', '2024-01-03T18:00:00.000Z', agency, { message: 'retention probe' }),
        ]);
        await events.refresh();
        const result = await events.deleteBefore!('2024-01-03T12:00:00+00:00');
        expect(result).toEqual({ days: ['2024-01-01', '2024-01-02'], events: 2 });
        await events.refresh();
        const left = await events.search({ agencies: [agency], query: 'retention probe' });
        expect(ids(left.events)).toEqual(['r-4', 'r-3']);
        expect(await events.deleteBefore!('2024-01-03T23:00:00Z')).toEqual({ days: [], events: 0 });
      });
    });

    describe('incidents', () => {
      it('creates once, reads its version, and refuses a stale update', async () => {
        const agency = freshAgency();
        const incident = makeIncident(`inc-${agency}`, agency);
        expect(await incidents.get(incident.id)).toBeNull();
        expect(await incidents.create(incident)).toBe('ok');
        expect(await incidents.create({ ...incident, title: 'again' })).toBe('conflict');
        const read = await incidents.get(incident.id);
        expect(read?.value).toEqual(incident);
        const first = read!.version;
        expect(await incidents.update({ ...incident, status: 'acknowledged' }, first)).toBe('ok');
        // A second writer that read the same version loses.
        expect(await incidents.update({ ...incident, status: 'resolved' }, first)).toBe('conflict');
        const after = await incidents.get(incident.id);
        expect(after?.value.status).toBe('acknowledged');
        expect(after?.version).not.toBe(first);
        expect(await incidents.update({ ...incident, status: 'in_progress' }, after!.version)).toBe('ok');
        expect((await incidents.get(incident.id))?.value.status).toBe('in_progress');
        expect(await incidents.update({ ...incident }, 'not-a-version')).toBe('conflict');
        expect(await incidents.update(makeIncident(`missing-${agency}`, agency), after!.version)).toBe(
          'conflict',
        );
      });

      it('lets exactly one of two racing workers create a dedup pointer, then moves it by version', async () => {
        const agency = freshAgency();
        const key = `rule-x|${agency}|198.51.100.1`;
        expect(await incidents.getDedupPointer(key)).toBeNull();
        const outcomes = await Promise.all([
          incidents.setDedupPointer(key, 'incident-a', null),
          incidents.setDedupPointer(key, 'incident-b', null),
        ]);
        expect(outcomes.sort()).toEqual(['conflict', 'ok']);
        const pointer = await incidents.getDedupPointer(key);
        expect(['incident-a', 'incident-b']).toContain(pointer?.value);
        expect(await incidents.setDedupPointer(key, 'incident-c', pointer!.version)).toBe('ok');
        expect(await incidents.setDedupPointer(key, 'incident-d', pointer!.version)).toBe('conflict');
        expect((await incidents.getDedupPointer(key))?.value).toBe('incident-c');
      });

      it('reads and writes a batch of keys with the same answers as the single calls', async () => {
        const { getDedupPointers, getMany, writeIncidents } = incidents;
        if (!getDedupPointers || !getMany || !writeIncidents) return; // optional batch forms
        const agency = freshAgency();
        const [fresh, held, stale] = ['fresh', 'held', 'stale'].map((name) => `rule-x|${agency}|${name}`);
        const existing = makeIncident(`bx-${agency}`, agency);
        const kept = makeIncident(`bk-${agency}`, agency);
        expect(await incidents.create(existing)).toBe('ok');
        expect(await incidents.create(kept)).toBe('ok');
        expect(await incidents.setDedupPointer(held!, existing.id, null)).toBe('ok');
        expect(await incidents.setDedupPointer(stale!, kept.id, null)).toBe('ok');
        const stalePointer = await incidents.getDedupPointer(stale!);
        expect(await incidents.setDedupPointer(stale!, kept.id, stalePointer!.version)).toBe('ok');

        const pointers = await getDedupPointers.call(incidents, [fresh!, held!, held!]);
        expect(pointers).toEqual([
          null,
          await incidents.getDedupPointer(held!),
          await incidents.getDedupPointer(held!),
        ]);
        const read = await getMany.call(incidents, [existing.id, `missing-${agency}`]);
        expect(read).toEqual([await incidents.get(existing.id), null]);

        const opened = makeIncident(`bo-${agency}`, agency);
        const lost = makeIncident(`bl-${agency}`, agency);
        const created = makeIncident(`bc-${agency}`, agency);
        const outcomes = await writeIncidents.call(incidents, [
          { kind: 'open', dedupKey: fresh!, pointerVersion: null, incident: opened },
          { kind: 'update', incident: { ...existing, status: 'acknowledged' }, version: read[0]!.version },
          { kind: 'update', incident: { ...kept, status: 'resolved' }, version: 'not-a-version' },
          { kind: 'create', incident: { ...kept, title: 'again' } },
          { kind: 'open', dedupKey: stale!, pointerVersion: stalePointer!.version, incident: lost },
          { kind: 'open', dedupKey: held!, pointerVersion: null, incident: lost },
          { kind: 'create', incident: created },
        ]);
        expect(outcomes.map((written) => written.outcome)).toEqual([
          'ok',
          'ok',
          'conflict',
          'conflict',
          'conflict',
          'conflict',
          'ok',
        ]);
        expect((await incidents.getDedupPointer(fresh!))?.value).toBe(opened.id);
        expect((await incidents.get(opened.id))?.value).toEqual(opened);
        expect((await incidents.get(existing.id))?.value.status).toBe('acknowledged');
        expect((await incidents.get(kept.id))?.value).toEqual(kept);
        expect((await incidents.getDedupPointer(stale!))?.value).toBe(kept.id);
        expect((await incidents.getDedupPointer(held!))?.value).toBe(existing.id);
        expect(await incidents.get(lost.id)).toBeNull(); // a lost open leaves no incident behind
        expect((await incidents.get(created.id))?.value).toEqual(created);
        // Each successful write names the version its incident is stored at now, as a read gives it.
        const versionsNow = await getMany.call(incidents, [opened.id, existing.id, created.id]);
        expect([outcomes[0], outcomes[1], outcomes[6]]).toEqual(
          versionsNow.map((stored) => ({ outcome: 'ok', version: stored!.version })),
        );
        // The version read before the batch is stale now; the one the batch gave is not.
        expect(
          await writeIncidents.call(incidents, [
            { kind: 'update', incident: existing, version: read[0]!.version },
          ]),
        ).toEqual([{ outcome: 'conflict' }]);
        expect(await incidents.update(existing, versionsNow[1]!.version)).toBe('ok');
      });

      it('stores a detection written twice once', async () => {
        const agency = freshAgency();
        const detections = [
          makeDetection(`det-1-${agency}`, agency, ['e-1'], '2025-03-01T10:00:00.000Z'),
          makeDetection(`det-2-${agency}`, agency, ['e-2', 'e-3'], '2025-03-01T10:01:00.000Z'),
        ];
        await incidents.addDetections(detections);
        await incidents.addDetections(detections);
        await incidents.addDetections([detections[0]!]);
        await incidents.refresh();
        const stored = await incidents.listDetections!({ agencies: [agency] });
        expect(stored.map((detection) => detection.id)).toEqual([`det-2-${agency}`, `det-1-${agency}`]);
        const byEvent = await incidents.listDetections!({ agencies: [agency], eventId: 'e-3' });
        expect(byEvent.map((detection) => detection.id)).toEqual([`det-2-${agency}`]);
      });

      // Re-delivered after the group's window state was lost (embedded mode keeps it in memory; Redis keys
      // expire), the same completing hit can close a window ending at another time: both stores keep the
      // first as written, whatever time the later ones carry. A rule's detection keeps its event's time.
      it('keeps a re-delivered correlation detection once, the first as written, when its time changed', async () => {
        const agency = freshAgency();
        const [corr1, corr2, rule1] = ['corr-1', 'corr-2', 'rule-1'].map((name) => `det-${name}-${agency}`);
        const rule = {
          ...makeDetection(rule1!, agency, ['e-9'], '2025-03-01T10:00:01.000Z'),
          batchId: 'b-1',
        };
        await incidents.addDetections([
          makeCorrelationDetection(corr1!, agency, '2025-03-01T10:00:05.000Z', 'b-1'),
          rule,
        ]);
        // Later, then earlier than the first; the rule's again at its event's time.
        await incidents.addDetections([
          makeCorrelationDetection(corr1!, agency, '2025-03-01T10:00:09.000Z', 'b-2'),
          { ...rule, batchId: 'b-2' },
        ]);
        await incidents.addDetections([
          makeCorrelationDetection(corr1!, agency, '2025-03-01T09:59:58.000Z', 'b-3'),
          makeCorrelationDetection(corr2!, agency, '2025-03-01T10:00:09.000Z', 'b-3'),
        ]);
        await incidents.refresh();
        const stored = await incidents.listDetections!({ agencies: [agency] });
        expect(stored.map((detection) => [detection.id, detection.timestamp, detection.batchId])).toEqual([
          [corr2, '2025-03-01T10:00:09.000Z', 'b-3'],
          [corr1, '2025-03-01T10:00:05.000Z', 'b-1'],
          [rule1, '2025-03-01T10:00:01.000Z', 'b-1'],
        ]);
        const byEvent = await incidents.listDetections!({ agencies: [agency], eventId: 'e-2' });
        expect(byEvent.map((detection) => detection.id)).toEqual([corr2, corr1]);
        const byRule = await incidents.listDetections!({ agencies: [agency], ruleId: 'corr-ssh-brute' });
        expect(byRule.map((detection) => detection.id)).toEqual([corr2, corr1]);
        expect(stored[1]).toEqual(
          makeCorrelationDetection(corr1!, agency, '2025-03-01T10:00:05.000Z', 'b-1'),
        );
      });

      it('lists incidents by agency, status and rule, most recently seen first', async () => {
        const a = freshAgency();
        const b = freshAgency();
        await incidents.create(makeIncident(`l1-${a}`, a, { lastSeen: '2025-03-01T10:00:00.000Z' }));
        await incidents.create(
          makeIncident(`l2-${a}`, a, { lastSeen: '2025-03-01T12:00:00.000Z', status: 'resolved' }),
        );
        await incidents.create(
          makeIncident(`l3-${a}`, a, { lastSeen: '2025-03-01T11:00:00.000Z', ruleId: 'rule-other' }),
        );
        await incidents.create(makeIncident(`l4-${b}`, b, { lastSeen: '2025-03-01T13:00:00.000Z' }));
        await incidents.refresh();
        const list = async (search: Parameters<IncidentStore['list']>[0]) =>
          (await incidents.list(search)).map((incident) => incident.id);
        expect(await list({ agencies: [a] })).toEqual([`l2-${a}`, `l3-${a}`, `l1-${a}`]);
        expect(await list({ agencies: [a, b], limit: 2 })).toEqual([`l4-${b}`, `l2-${a}`]);
        expect(await list({ agencies: [a], status: ['new', 'acknowledged'] })).toEqual([
          `l3-${a}`,
          `l1-${a}`,
        ]);
        expect(await list({ agencies: [a], ruleId: 'rule-other' })).toEqual([`l3-${a}`]);
        expect(await list({ agencies: [] })).toEqual([]);
      });
    });
  });
}
