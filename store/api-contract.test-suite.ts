/**
 * The contract of the API-owned stores (keys, audit, rules, incident reads), run against both adapters
 * by store/sqlite/api-stores.test.ts and store/elasticsearch/api-stores.test.ts. "Second" stores open the
 * same data from another connection/client, as another process would.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Detection, INCIDENT_LIST_FIELDS, type Incident } from '../core/model.js';
import type {
  ApiKeyRepository,
  AuditEntry,
  AuditLog,
  IncidentQueries,
  IncidentStore,
  RuleRepository,
  SourceInventory,
  SourceObservation,
  StoredRule,
} from '../core/ports.js';
import { freshAgency, makeIncident } from './contract.test-suite.js';
import { StoreQueryError } from './errors.js';
import { SOURCE_SLOT_MS, sourceIdOf } from './source-inventory.js';

export interface ApiStoresUnderTest {
  keys: ApiKeyRepository;
  audit: AuditLog;
  rules: RuleRepository;
  incidentQueries: IncidentQueries;
  sources: SourceInventory;
  incidents: IncidentStore;
  /** The same data seen from another process. */
  second: { keys: ApiKeyRepository; rules: RuleRepository };
  dispose(): Promise<void>;
}

const waitFor = async (check: () => boolean, ms = 5000) => {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return true;
};

export function describeApiStoreContract(name: string, open: () => Promise<ApiStoresUnderTest>): void {
  describe(`${name}: API store contract`, () => {
    let s: ApiStoresUnderTest;
    beforeAll(async () => {
      s = await open();
    });
    afterAll(async () => {
      await s?.dispose();
    });

    it('creates keys once, shares them with other processes and revokes them once', async () => {
      const id = `k${freshAgency().replace(/\W/g, '')}`;
      const key = {
        id,
        name: 'analyst one',
        role: 'analyst',
        agencies: ['a1'],
        salt: 'c2FsdA==',
        hash: 'aGFzaA==',
        createdAt: new Date().toISOString(),
      };
      expect(await s.keys.create(key)).toBe('ok');
      expect(await s.keys.create({ ...key, name: 'again' })).toBe('conflict');
      expect(await s.second.keys.get(id)).toEqual(key);
      expect((await s.second.keys.list()).map((k) => k.id)).toContain(id);
      expect(await s.second.keys.revoke(id, '2025-03-01T00:00:00.000Z')).toBe(true);
      expect(await s.keys.revoke(id, '2025-03-02T00:00:00.000Z')).toBe(false);
      expect((await s.keys.get(id))?.revokedAt).toBe('2025-03-01T00:00:00.000Z');
      expect(await s.keys.get('no-such-key')).toBeNull();
      expect(await s.keys.revoke('no-such-key', '2025-03-01T00:00:00.000Z')).toBe(false);
    });

    it('appends audit entries and reads them newest first, filtered, in pages', async () => {
      const target = `inc-${freshAgency()}`;
      const entries: AuditEntry[] = Array.from({ length: 5 }, (_, i) => ({
        id: `${target}-e${i}`,
        at: `2025-03-01T10:00:0${i}.000Z`,
        actor: i % 2 === 0 ? 'alice' : 'bob',
        action: 'incident.update',
        targetType: 'incident',
        targetId: target,
        before: { status: 'new' },
        after: { status: 'acknowledged', n: i },
        requestId: `req-${i}`,
      }));
      await s.audit.append(entries);
      await s.audit.append([entries[0]!]); // appending the same entry twice keeps one
      await s.audit.refresh();
      const all = await s.audit.list({ targetId: target });
      expect(all.entries.map((e) => e.id)).toEqual([4, 3, 2, 1, 0].map((i) => `${target}-e${i}`));
      expect(all.entries[0]).toEqual(entries[4]);
      expect(all.next).toBeUndefined();
      const alice = await s.audit.list({ targetId: target, actor: 'alice' });
      expect(alice.entries.map((e) => e.id)).toEqual([4, 2, 0].map((i) => `${target}-e${i}`));
      const ranged = await s.audit.list({
        targetId: target,
        time: { from: '2025-03-01T10:00:01.000Z', to: '2025-03-01T10:00:03.000Z' },
      });
      expect(ranged.entries.map((e) => e.id)).toEqual([2, 1].map((i) => `${target}-e${i}`));
      const seen: string[] = [];
      let after: string | undefined;
      for (let page = 0; page < 5; page++) {
        const result = await s.audit.list({ targetId: target, limit: 2, ...(after ? { after } : {}) });
        seen.push(...result.entries.map((e) => e.id));
        after = result.next;
        if (!after) break;
      }
      expect(seen).toEqual(all.entries.map((e) => e.id));
      await expect(s.audit.list({ after: 'garbage' })).rejects.toThrow(StoreQueryError);
      await expect(s.audit.list({ limit: 0 })).rejects.toThrow(StoreQueryError);
    });

    it('versions rules, refuses stale writes and tells every process about changes', async () => {
      const id = `rule-${freshAgency()}`;
      let heardHere = 0;
      let heardThere = 0;
      const stopHere = await s.rules.onChange(() => heardHere++);
      const stopThere = await s.second.rules.onChange(() => heardThere++);
      const rule: StoredRule = {
        id,
        yaml: 'title: x',
        kind: 'detection',
        enabled: true,
        origin: 'api',
        updatedAt: '2025-03-01T00:00:00.000Z',
        updatedBy: 'alice',
      };
      expect(await s.rules.put(rule, null)).toBe('ok');
      expect(await s.rules.put(rule, null)).toBe('conflict');
      const read = await s.second.rules.get(id);
      expect(read?.value).toEqual(rule);
      expect(await s.rules.put({ ...rule, enabled: false }, read!.version)).toBe('ok');
      expect(await s.second.rules.put({ ...rule, yaml: 'title: stale' }, read!.version)).toBe('conflict');
      expect(await s.rules.put(rule, 'nonsense')).toBe('conflict');
      const listed = await s.second.rules.list();
      expect(listed.find((r) => r.value.id === id)?.value.enabled).toBe(false);
      // Several changes close together may be announced as one: listeners reload, they do not count.
      expect(await waitFor(() => heardHere >= 1 && heardThere >= 1)).toBe(true);
      const before = heardThere;
      expect(await s.second.rules.delete(id)).toBe(true);
      expect(await s.second.rules.delete(id)).toBe(false);
      expect(await s.rules.get(id)).toBeNull();
      expect(await waitFor(() => heardThere > before)).toBe(true);
      await stopHere();
      await stopThere();
    });

    describe('incident reads', () => {
      const a = freshAgency();
      const b = freshAgency();
      const fixtures: Incident[] = [
        makeIncident(`q1-${a}`, a, {
          severity: 'low',
          status: 'new',
          firstSeen: '2025-03-01T08:00:00.000Z',
          lastSeen: '2025-03-01T09:00:00.000Z',
          createdAt: '2025-03-01T08:00:05.000Z',
          detectionCount: 5,
          tactics: ['credential_access'],
          title: 'Đăng nhập SSH thất bại — source.ip 203.0.113.5',
        }),
        makeIncident(`q2-${a}`, a, {
          severity: 'critical',
          status: 'acknowledged',
          assignee: 'alice',
          firstSeen: '2025-03-01T09:30:00.000Z',
          lastSeen: '2025-03-01T11:00:00.000Z',
          createdAt: '2025-03-01T09:30:05.000Z',
          detectionCount: 2,
          tactics: ['credential_access', 'privilege_escalation'],
          ruleId: 'rule-sudo',
          acknowledgedAt: '2025-03-01T09:40:05.000Z',
          timeToAcknowledgeMs: 600_000,
        }),
        makeIncident(`q3-${a}`, a, {
          severity: 'high',
          status: 'resolved',
          assignee: 'bob',
          firstSeen: '2025-03-01T10:00:00.000Z',
          lastSeen: '2025-03-01T10:30:00.000Z',
          createdAt: '2025-03-01T10:00:05.000Z',
          detectionCount: 9,
          tactics: ['discovery'],
          tags: ['noisy'],
          acknowledgedAt: '2025-03-01T10:05:05.000Z',
          timeToAcknowledgeMs: 300_000,
          closedAt: '2025-03-01T11:00:05.000Z',
          timeToResolveMs: 3_600_000,
        }),
        makeIncident(`q4-${a}`, a, {
          severity: 'high',
          status: 'in_progress',
          firstSeen: '2025-03-01T10:10:00.000Z',
          lastSeen: '2025-03-01T10:20:00.000Z',
          createdAt: '2025-03-01T10:10:05.000Z',
          detectionCount: 1,
          tactics: ['credential_access'],
          acknowledgedAt: '2025-03-01T10:30:05.000Z',
          timeToAcknowledgeMs: 1_200_000,
        }),
        makeIncident(`q5-${b}`, b, {
          severity: 'medium',
          firstSeen: '2025-03-01T10:00:00.000Z',
          lastSeen: '2025-03-01T12:00:00.000Z',
          createdAt: '2025-03-01T10:00:05.000Z',
        }),
      ];
      const ids = (list: Incident[]) => list.map((incident) => incident.id);
      beforeAll(async () => {
        for (const incident of fixtures) await s.incidents.create(incident);
        await s.incidents.refresh();
      });

      it('filters by every field, always within the agency scope', async () => {
        const q = async (query: Parameters<IncidentQueries['search']>[0]) =>
          ids((await s.incidentQueries.search({ agencies: [a], ...query })).incidents);
        expect(await q({})).toEqual([`q2-${a}`, `q3-${a}`, `q4-${a}`, `q1-${a}`]);
        expect(await q({ status: ['new', 'in_progress'] })).toEqual([`q4-${a}`, `q1-${a}`]);
        expect(await q({ severity: ['high'] })).toEqual([`q3-${a}`, `q4-${a}`]);
        expect(await q({ ruleId: 'rule-sudo' })).toEqual([`q2-${a}`]);
        expect(await q({ assignee: 'bob' })).toEqual([`q3-${a}`]);
        expect(await q({ assignee: null })).toEqual([`q4-${a}`, `q1-${a}`]);
        expect(await q({ tactic: 'credential_access' })).toEqual([`q2-${a}`, `q4-${a}`, `q1-${a}`]);
        expect(await q({ tag: 'noisy' })).toEqual([`q3-${a}`]);
        expect(await q({ text: 'đăng NHẬP' })).toEqual([`q1-${a}`]);
        expect(await q({ text: 'BRUTE force' })).toEqual([`q2-${a}`, `q3-${a}`, `q4-${a}`]);
        expect(await q({ text: 'nhập đăng' })).toEqual([]);
        expect(await q({ text: `q3-${a}` })).toEqual([`q3-${a}`]);
        expect(await q({ text: '*' })).toEqual([]);
        expect(await q({ time: { from: '2025-03-01T10:25:00Z', to: '2025-03-01T10:05:00Z' } })).toEqual([
          `q2-${a}`,
          `q3-${a}`,
        ]);
        expect(await q({ agencies: [b] })).toEqual([`q5-${b}`]);
        expect(await q({ agencies: [] })).toEqual([]);
        expect((await s.incidentQueries.search({ agencies: [a], status: ['new'] })).total).toBe(1);
      });

      it('sorts by each field both ways and pages without gaps or repeats', async () => {
        const order = async (field: 'severity' | 'detectionCount' | 'createdAt' | 'firstSeen', asc = false) =>
          ids(
            (await s.incidentQueries.search({ agencies: [a], sort: { field, order: asc ? 'asc' : 'desc' } }))
              .incidents,
          );
        expect(await order('severity')).toEqual([`q2-${a}`, `q4-${a}`, `q3-${a}`, `q1-${a}`]);
        expect(await order('detectionCount', true)).toEqual([`q4-${a}`, `q2-${a}`, `q1-${a}`, `q3-${a}`]);
        expect(await order('createdAt', true)).toEqual([`q1-${a}`, `q2-${a}`, `q3-${a}`, `q4-${a}`]);
        expect(await order('firstSeen')).toEqual([`q4-${a}`, `q3-${a}`, `q2-${a}`, `q1-${a}`]);
        for (const field of ['severity', 'lastSeen', 'createdAt'] as const) {
          const seen: string[] = [];
          let after: string | undefined;
          for (let page = 0; page < 6; page++) {
            const result = await s.incidentQueries.search({
              agencies: [a],
              sort: { field, order: 'asc' },
              limit: 3,
              ...(after ? { after } : {}),
            });
            expect(result.total).toBe(4);
            seen.push(...ids(result.incidents));
            after = result.next;
            if (!after) break;
          }
          expect(seen).toHaveLength(4);
          expect(new Set(seen).size).toBe(4);
        }
        await expect(s.incidentQueries.search({ agencies: [a], after: 'bm9wZQ' })).rejects.toThrow(
          StoreQueryError,
        );
        await expect(s.incidentQueries.search({ agencies: [a], limit: 100_000 })).rejects.toThrow(
          StoreQueryError,
        );
      });

      it('lists the same pages as search, each incident as its list fields and stored version', async () => {
        for (const sort of [undefined, { field: 'severity', order: 'asc' }] as const) {
          let after: string | undefined;
          for (let page = 0; page < 3; page++) {
            const query = { agencies: [a], limit: 3, ...(sort ? { sort } : {}), ...(after ? { after } : {}) };
            const whole = await s.incidentQueries.search(query);
            const listed = await s.incidentQueries.list(query);
            expect(listed.total).toBe(whole.total);
            expect(listed.next).toEqual(whole.next);
            expect(listed.incidents).toHaveLength(whole.incidents.length);
            for (const [i, incident] of whole.incidents.entries()) {
              const picked = Object.fromEntries(
                INCIDENT_LIST_FIELDS.filter((field) => incident[field] !== undefined).map((field) => [
                  field,
                  incident[field],
                ]),
              );
              const stored = await s.incidents.get(incident.id);
              expect(listed.incidents[i]).toEqual({ ...picked, version: stored!.version });
            }
            after = whole.next;
            if (!after) break;
          }
        }
        // The agency scope holds for the list as for search.
        expect((await s.incidentQueries.list({ agencies: [b] })).incidents.map((i) => i.id)).toEqual([
          `q5-${b}`,
        ]);
        expect(await s.incidentQueries.list({ agencies: [] })).toEqual({ incidents: [], total: 0 });
      });

      it('summarises open incidents, response times, a histogram and top tactics', async () => {
        const summary = await s.incidentQueries.summarize({
          agencies: [a],
          from: '2025-03-01T08:00:00.000Z',
          to: '2025-03-01T11:00:00.000Z',
          bucketMs: 3_600_000,
        });
        expect(summary.open).toEqual([
          { agency: a, severity: 'critical', count: 1 },
          { agency: a, severity: 'high', count: 1 },
          { agency: a, severity: 'low', count: 1 },
        ]);
        expect(summary.created).toEqual([
          {
            agency: a,
            severity: 'critical',
            count: 1,
            acknowledged: 1,
            meanTimeToAcknowledgeMs: 600_000,
            closed: 0,
            meanTimeToResolveMs: null,
          },
          {
            agency: a,
            severity: 'high',
            count: 2,
            acknowledged: 2,
            meanTimeToAcknowledgeMs: 750_000,
            closed: 1,
            meanTimeToResolveMs: 3_600_000,
          },
          {
            agency: a,
            severity: 'low',
            count: 1,
            acknowledged: 0,
            meanTimeToAcknowledgeMs: null,
            closed: 0,
            meanTimeToResolveMs: null,
          },
        ]);
        expect(summary.createdHistogram).toEqual([
          { start: '2025-03-01T08:00:00.000Z', count: 1 },
          { start: '2025-03-01T09:00:00.000Z', count: 1 },
          { start: '2025-03-01T10:00:00.000Z', count: 2 },
        ]);
        expect(summary.createdHistogramByAgency).toEqual([{ agency: a, counts: [1, 1, 2] }]);
        expect(summary.topTactics).toEqual([
          { tactic: 'credential_access', count: 3 },
          { tactic: 'privilege_escalation', count: 1 },
        ]);
        const byAgency = await s.incidentQueries.summarize({
          agencies: [a, b],
          from: '2025-03-01T00:00:00.000Z',
          to: '2025-03-02T00:00:00.000Z',
          bucketMs: 86_400_000,
          topTactics: 1,
        });
        expect(byAgency.tacticsByAgency).toEqual([
          { agency: a, tactic: 'credential_access', count: 3 },
          { agency: b, tactic: 'credential-access', count: 1 },
        ]);
        const both = await s.incidentQueries.summarize({
          agencies: [a, b],
          from: '2025-03-01T00:00:00.000Z',
          to: '2025-03-02T00:00:00.000Z',
          bucketMs: 86_400_000,
        });
        expect(both.createdHistogram).toEqual([{ start: '2025-03-01T00:00:00.000Z', count: 5 }]);
        expect(both.createdHistogramByAgency).toEqual([
          { agency: a, counts: [4] },
          { agency: b, counts: [1] },
        ]);
        const none = await s.incidentQueries.summarize({
          agencies: [],
          from: '2025-03-01T00:00:00.000Z',
          to: '2025-03-01T02:00:00.000Z',
          bucketMs: 3_600_000,
        });
        expect(none.open).toEqual([]);
        expect(none.createdHistogram.map((bucket) => bucket.count)).toEqual([0, 0]);
        expect(none.createdHistogramByAgency).toEqual([]);
      });
    });
    it('counts detections per rule with the last hit, within the agency scope and time range', async () => {
      const a = freshAgency();
      const b = freshAgency();
      const detection = (id: string, ruleId: string, agency: string, timestamp: string): Detection => ({
        id: `${id}-${a}`,
        ruleId: `${ruleId}-${a}`,
        ruleTitle: ruleId,
        level: 'medium',
        tags: [],
        eventIds: [`e-${id}`],
        groupBy: {},
        agency,
        timestamp,
        batchId: 'b1',
      });
      await s.incidents.addDetections([
        detection('d1', 'r1', a, '2025-03-01T08:00:00.000Z'),
        detection('d2', 'r1', a, '2025-03-01T09:30:00.123Z'),
        detection('d3', 'r1', b, '2025-03-01T11:00:00.000Z'),
        detection('d4', 'r2', b, '2025-03-01T10:00:00.000Z'),
        // Written twice (re-delivery): counted once.
        detection('d4', 'r2', b, '2025-03-01T10:00:00.000Z'),
      ]);
      await s.incidents.refresh();
      const mine = (hits: Awaited<ReturnType<NonNullable<IncidentQueries['ruleHits']>>>) =>
        hits.filter((hit) => hit.ruleId.endsWith(a));
      expect(mine(await s.incidentQueries.ruleHits!({ agencies: [a, b] }))).toEqual([
        { ruleId: `r1-${a}`, count: 3, lastHit: '2025-03-01T11:00:00.000Z' },
        { ruleId: `r2-${a}`, count: 1, lastHit: '2025-03-01T10:00:00.000Z' },
      ]);
      expect(mine(await s.incidentQueries.ruleHits!({ agencies: [a] }))).toEqual([
        { ruleId: `r1-${a}`, count: 2, lastHit: '2025-03-01T09:30:00.123Z' },
      ]);
      expect(
        mine(
          await s.incidentQueries.ruleHits!({
            agencies: [a, b],
            from: '2025-03-01T09:00:00.000Z',
            to: '2025-03-01T11:00:00.000Z',
          }),
        ),
      ).toEqual([
        { ruleId: `r1-${a}`, count: 1, lastHit: '2025-03-01T09:30:00.123Z' },
        { ruleId: `r2-${a}`, count: 1, lastHit: '2025-03-01T10:00:00.000Z' },
      ]);
      expect(await s.incidentQueries.ruleHits!({ agencies: [] })).toEqual([]);
    });

    it('keeps a source inventory: totals, slots, parsers, scope, concurrent writers lose nothing', async () => {
      const a = freshAgency();
      const b = freshAgency();
      const slot = Math.floor(Date.parse('2025-03-01T10:00:00.000Z') / SOURCE_SLOT_MS) * SOURCE_SLOT_MS;
      const at = (ms: number) => new Date(slot + ms).toISOString();
      const seen = (
        agency: string,
        host: string,
        events: number,
        failures: number,
        ms: number,
        parsers: string[],
      ) =>
        ({
          agency,
          host,
          listener: 'syslog-tcp',
          parsers,
          events,
          parseFailures: failures,
          firstSeen: at(ms),
          lastSeen: at(ms + 1000),
        }) satisfies SourceObservation;
      // Twenty concurrent writers (as several workers would be) on the same source.
      await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          s.sources.record([seen(a, 'web01', 10, 1, i * 1000, ['nginx.access'])]),
        ),
      );
      await s.sources.record([
        seen(a, 'web01', 5, 5, SOURCE_SLOT_MS, ['system.auth']),
        seen(a, 'fw01', 7, 0, 0, ['fortinet.firewall']),
        seen(b, 'dc01', 3, 0, 0, ['windows.security']),
      ]);
      const list = async (agencies: string[], expected: number) => {
        const deadline = Date.now() + 5000;
        for (;;) {
          const sources = await s.sources.list({ agencies });
          const total = sources.reduce((sum, source) => sum + source.events, 0);
          if (total >= expected || Date.now() > deadline) return sources;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      };
      const sources = await list([a, b], 215);
      expect(sources.map((source) => `${source.agency}/${source.host}`)).toEqual([
        `${a}/fw01`,
        `${a}/web01`,
        `${b}/dc01`,
      ]);
      const web = sources.find((source) => source.host === 'web01')!;
      expect(web).toMatchObject({
        id: sourceIdOf(a, 'web01', 'syslog-tcp'),
        events: 205,
        parseFailures: 25,
        parsers: ['system.auth', 'nginx.access'],
        firstSeen: at(0),
        lastSeen: at(SOURCE_SLOT_MS + 1000),
        current: { start: at(SOURCE_SLOT_MS), events: 5, parseFailures: 5 },
        previous: { start: at(0), events: 200, parseFailures: 20 },
      });
      expect((await list([b], 3)).map((source) => source.host)).toEqual(['dc01']);
      expect(await s.sources.list({ agencies: [] })).toEqual([]);
    });
  });
}
