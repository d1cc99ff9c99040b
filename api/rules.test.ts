/**
 * Rules through the API, in both modes on the real stores: the list (bundled and uploaded, hit counts and
 * last hit within the agency scope), detail with YAML and author, validation errors with line and column,
 * edits with versions (409), enable/disable, delete (bundled refused, override reverted), false-positive
 * filters scoped to their agency, and hunts run by the store's backend with progress and results.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SecurityEvent } from '../core/model.js';
import { event, incident } from './testing/fixtures.js';
import { AGENCY_A, AGENCY_B, type Harness, openHarness } from './testing/harness.js';

const FAILED_PASSWORD = '8777fb77-a27d-45a0-9f0a-2a8dc9f15429';
const BRUTE_FORCE = 'd10613ff-c77f-4b3d-a40c-cbc0d0a9d789';
const UPLOADED = '0b0c3c52-4f7e-4a43-9a51-3a1f1bb6f0d1';

const uploaded = (title = 'Login from a decommissioned jump host') =>
  [
    `title: ${title}`,
    `id: ${UPLOADED}`,
    'author: SOC Hau Giang',
    'logsource: { product: linux, service: sshd }',
    'detection:',
    '  selection:',
    '    event.action: ssh_login',
    '    event.outcome: success',
    '    source.ip: 10.20.5.17',
    '  condition: selection',
    'level: high',
    '',
  ].join('\n');

function failedPassword(id: string, agency: string, at: string, ip = '203.0.113.5'): SecurityEvent {
  return event(id, agency, at, { process: { name: 'sshd' }, source: { ip } });
}

const waitFor = async <T>(probe: () => Promise<T | undefined>, ms = 20_000): Promise<T> => {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};

describe.each(['embedded', 'scale'] as const)('rules (%s)', (mode) => {
  let h: Harness;
  const now = Date.now();
  const at = (minutesAgo: number) => new Date(now - minutesAgo * 60_000).toISOString();
  beforeAll(async () => {
    h = await openHarness(mode);
    await h.events.index([
      failedPassword('e1', AGENCY_A, at(10)),
      failedPassword('e2', AGENCY_A, at(70)),
      failedPassword('e3', AGENCY_B, at(20)),
      event('e4', AGENCY_A, at(5), { process: { name: 'nginx' } }),
    ]);
    await h.incidents.addDetections(
      ['e1', 'e2', 'e3'].map((id, i) => ({
        id: `d-${id}`,
        ruleId: FAILED_PASSWORD,
        ruleTitle: 'SSH Failed Password',
        level: 'medium' as const,
        tags: [],
        eventIds: [id],
        groupBy: {},
        agency: i < 2 ? AGENCY_A : AGENCY_B,
        timestamp: at([10, 70, 20][i]!),
        batchId: 'b1',
      })),
    );
    await h.refresh();
  });
  afterAll(async () => {
    await h?.dispose();
  });

  it('lists bundled rules with hit counts and last hit, scoped to the caller’s agencies', async () => {
    const all = (await h.call('GET', '/api/rules', h.key.analyst)).json();
    const failed = all.rules.find((rule: { id: string }) => rule.id === FAILED_PASSWORD);
    expect(failed).toMatchObject({
      title: 'SSH Failed Password',
      kind: 'detection',
      origin: 'bundled',
      bundled: true,
      enabled: true,
      version: null,
      hits: { count: 3, lastHit: at(10) },
      problems: [],
    });
    expect(all.rules.find((rule: { id: string }) => rule.id === BRUTE_FORCE)).toMatchObject({
      kind: 'correlation',
      hits: { count: 0, lastHit: null },
    });
    const scoped = (await h.call('GET', '/api/rules?kind=detection&q=failed', h.key.agencyB)).json();
    expect(scoped.rules.map((rule: { id: string }) => rule.id)).toContain(FAILED_PASSWORD);
    expect(scoped.rules.find((rule: { id: string }) => rule.id === FAILED_PASSWORD).hits).toEqual({
      count: 1,
      lastHit: at(20),
    });
    expect((await h.call('GET', '/api/rules', h.key.ioc)).statusCode).toBe(403);
  });

  it('shows one rule with its YAML, author and references', async () => {
    const response = await h.call('GET', `/api/rules/${FAILED_PASSWORD}`, h.key.agencyA);
    expect(response.statusCode).toBe(200);
    const rule = response.json();
    expect(rule.author).toBe('siem-lite (Hau Giang provincial SOC)');
    expect(rule.references).toEqual(['https://attack.mitre.org/techniques/T1110/']);
    expect(rule.logsource).toEqual({ product: 'linux', service: 'sshd' });
    expect(rule.yaml).toContain(`id: ${FAILED_PASSWORD}`);
    expect(rule.yaml).toContain('condition: selection and sshd');
    expect(rule.hits).toEqual({ count: 2, lastHit: at(10) });
    expect(
      (await h.call('GET', '/api/rules/00000000-0000-4000-8000-000000000000', h.key.admin)).statusCode,
    ).toBe(404);
  });

  it('refuses invalid rules with the line and column of each problem', async () => {
    const badYaml = await h.call('POST', '/api/rules', h.key.analyst, {
      yaml: 'title: x\nid: 11111111-1111-4111-8111-111111111111\ndetection:\n  sel: [a\n',
    });
    expect(badYaml.statusCode).toBe(400);
    expect(badYaml.json().error.code).toBe('invalid_rule');
    expect(badYaml.json().error.details.problems[0]).toMatchObject({ line: expect.any(Number) });
    const badLevel = await h.call('POST', '/api/rules', h.key.analyst, {
      yaml: uploaded().replace('level: high', 'level: severe'),
    });
    expect(badLevel.statusCode).toBe(400);
    expect(badLevel.json().error.details.problems).toEqual([
      { line: 11, column: 1, message: expect.stringContaining('level must be one of') },
    ]);
    const badCondition = await h.call('POST', '/api/rules/validate', h.key.agencyA, {
      yaml: uploaded().replace('condition: selection', 'condition: selection and nothing'),
    });
    expect(badCondition.statusCode).toBe(400);
    expect(badCondition.json().error.details.problems[0].message).toMatch(/nothing/);
    const noId = await h.call('POST', '/api/rules', h.key.analyst, {
      yaml: uploaded().replace(/^id: .*\n/m, ''),
    });
    expect(noId.statusCode).toBe(400);
    expect(noId.json().error.message).toMatch(/id is required/);
    const unknownReference = await h.call('POST', '/api/rules', h.key.analyst, {
      yaml: [
        'title: Correlation of nothing',
        'id: 22222222-2222-4222-8222-222222222222',
        'correlation:',
        '  type: event_count',
        '  rules: [no_such_rule]',
        '  group-by: [source.ip]',
        '  timespan: 5m',
        '  condition: { gte: 3 }',
        '',
      ].join('\n'),
    });
    expect(unknownReference.statusCode).toBe(400);
    expect(unknownReference.json().error.message).toMatch(/no_such_rule/);
    const valid = await h.call('POST', '/api/rules/validate', h.key.agencyA, { yaml: uploaded() });
    expect(valid.json()).toEqual({ valid: true, id: UPLOADED, kind: 'detection', title: expect.any(String) });
  });

  it('uploads, edits with the version read (409 when stale), disables and deletes a rule', async () => {
    expect((await h.call('POST', '/api/rules', h.key.agencyA, { yaml: uploaded() })).statusCode).toBe(403);
    const created = await h.call('POST', '/api/rules', h.key.analyst, { yaml: uploaded() });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ id: UPLOADED, origin: 'api', bundled: false, enabled: true });
    const version = created.json().version as string;
    expect((await h.call('POST', '/api/rules', h.key.analyst, { yaml: uploaded() })).json().error.code).toBe(
      'exists',
    );
    const edited = await h.call('PUT', `/api/rules/${UPLOADED}`, h.key.analyst, {
      yaml: uploaded('Login from the old jump host'),
      version,
    });
    expect(edited.statusCode).toBe(200);
    expect(edited.json().title).toBe('Login from the old jump host');
    const stale = await h.call('PUT', `/api/rules/${UPLOADED}`, h.key.admin, { yaml: uploaded(), version });
    expect(stale.statusCode).toBe(409);
    expect(stale.json().error.details.current.title).toBe('Login from the old jump host');
    const disabled = await h.call('PATCH', `/api/rules/${UPLOADED}`, h.key.analyst, { enabled: false });
    expect(disabled.json()).toMatchObject({ enabled: false, origin: 'api' });
    expect(
      (await h.call('GET', '/api/rules?enabled=false&origin=api', h.key.analyst))
        .json()
        .rules.map((rule: { id: string }) => rule.id),
    ).toEqual([UPLOADED]);
    const deleted = await h.call('DELETE', `/api/rules/${UPLOADED}`, h.key.analyst);
    expect(deleted.json()).toEqual({ id: UPLOADED, outcome: 'deleted' });
    expect((await h.call('GET', `/api/rules/${UPLOADED}`, h.key.analyst)).statusCode).toBe(404);
    await h.apiStores.audit.refresh();
    const audit = await h.apiStores.audit.list({ targetId: UPLOADED });
    expect(audit.entries.map((entry) => entry.action).sort()).toEqual([
      'rule.create',
      'rule.delete',
      'rule.disable',
      'rule.update',
    ]);
  });

  it('keeps bundled rules: disable/enable leaves the pack’s text, edits override, delete reverts', async () => {
    const bundled = (await h.call('GET', `/api/rules/${FAILED_PASSWORD}`, h.key.analyst)).json();
    expect((await h.call('DELETE', `/api/rules/${FAILED_PASSWORD}`, h.key.analyst)).json().error.code).toBe(
      'bundled_rule',
    );
    const off = await h.call('PATCH', `/api/rules/${FAILED_PASSWORD}`, h.key.analyst, { enabled: false });
    expect(off.json()).toMatchObject({ enabled: false, origin: 'bundled', yaml: bundled.yaml });
    expect((await h.apiStores.rules.get(FAILED_PASSWORD))?.value.enabled).toBe(false);
    const on = await h.call('PATCH', `/api/rules/${FAILED_PASSWORD}`, h.key.analyst, { enabled: true });
    expect(on.json()).toMatchObject({ enabled: true, origin: 'bundled', version: null });
    expect(await h.apiStores.rules.get(FAILED_PASSWORD)).toBeNull();

    const override = await h.call('PUT', `/api/rules/${FAILED_PASSWORD}`, h.key.analyst, {
      yaml: bundled.yaml.replace('level: medium', 'level: low'),
      version: null,
    });
    expect(override.statusCode).toBe(200);
    expect(override.json()).toMatchObject({ origin: 'api', bundled: true, level: 'low' });
    const reverted = await h.call('DELETE', `/api/rules/${FAILED_PASSWORD}`, h.key.analyst);
    expect(reverted.json()).toEqual({ id: FAILED_PASSWORD, outcome: 'reverted' });
    expect((await h.call('GET', `/api/rules/${FAILED_PASSWORD}`, h.key.analyst)).json()).toMatchObject({
      origin: 'bundled',
      level: 'medium',
    });
  });

  it('marks a false positive with a filter scoped to the rule, the agency and the group-by values', async () => {
    const fp = incident('fp-1', AGENCY_A, {
      ruleId: BRUTE_FORCE,
      ruleTitle: 'SSH Brute Force',
      groupBy: { 'source.ip': '198.51.100.7' },
    });
    await h.incidents.create(fp);
    await h.refresh();
    const { version } = (await h.call('GET', '/api/incidents/fp-1', h.key.agencyA)).json();
    expect(
      (await h.call('POST', '/api/incidents/fp-1/false-positive', h.key.agencyB, { version })).statusCode,
    ).toBe(404);
    const marked = await h.call('POST', '/api/incidents/fp-1/false-positive', h.key.agencyA, {
      version,
      reason: 'the scanner',
      filter: true,
    });
    expect(marked.statusCode).toBe(200);
    const body = marked.json();
    expect(body.incident.status).toBe('false_positive');
    // A correlation is filtered at the detection rule it counts.
    expect(body.filters).toEqual([
      {
        id: expect.any(String),
        rules: [FAILED_PASSWORD],
        selection: { 'agency.id': AGENCY_A, 'source.ip': '198.51.100.7' },
        yaml: expect.stringContaining('condition: not false_positive'),
      },
    ]);
    const filterId = body.filters[0].id as string;
    const seenByA = await h.call('GET', `/api/rules/${filterId}`, h.key.agencyA);
    expect(seenByA.json()).toMatchObject({
      kind: 'filter',
      origin: 'api',
      agency: AGENCY_A,
      incidentId: 'fp-1',
    });
    // Another agency's analysts do not see it, nor change it.
    expect((await h.call('GET', `/api/rules/${filterId}`, h.key.agencyB)).statusCode).toBe(404);
    expect(
      (await h.call('GET', '/api/rules?kind=filter', h.key.agencyB))
        .json()
        .rules.map((rule: { id: string }) => rule.id),
    ).not.toContain(filterId);
    // The failed-password rule no longer matches that address in that agency: a hunt finds the rest only.
    const incidentWithoutScope = incident('fp-2', AGENCY_A, { groupBy: {}, ruleId: FAILED_PASSWORD });
    await h.incidents.create(incidentWithoutScope);
    await h.refresh();
    const v2 = (await h.call('GET', '/api/incidents/fp-2', h.key.agencyA)).json().version;
    const refused = await h.call('POST', '/api/incidents/fp-2/false-positive', h.key.agencyA, {
      version: v2,
      filter: true,
    });
    expect(refused.statusCode).toBe(422);
    expect(refused.json().error.code).toBe('no_filter_scope');
    expect((await h.call('GET', '/api/incidents/fp-2', h.key.agencyA)).json().incident.status).toBe('new');
    // The agency's analyst may switch off its own filter.
    expect((await h.call('DELETE', `/api/rules/${filterId}`, h.key.agencyA)).json().outcome).toBe('deleted');
  });

  it('hunts a rule over history with progress and results, within the agency scope', async () => {
    const started = await h.call('POST', `/api/rules/${FAILED_PASSWORD}/hunt`, h.key.agencyA, {
      from: at(180),
      to: at(0),
    });
    expect(started.statusCode).toBe(202);
    expect(started.headers.location).toBe(`/api/hunts/${started.json().id}`);
    expect(started.json()).toMatchObject({
      state: 'running',
      agencies: [AGENCY_A],
      ruleTitle: 'SSH Failed Password',
    });
    const done = await waitFor(async () => {
      const job = (await h.call('GET', `/api/hunts/${started.json().id}`, h.key.agencyA)).json();
      return job.state === 'running' ? undefined : job;
    });
    expect(done).toMatchObject({ state: 'done', progress: 1, matched: 2 });
    expect(done.events.map((e: SecurityEvent) => e.event.id)).toEqual(['e1', 'e2']);
    expect(done.slices.reduce((sum: number, slice: { count: number }) => sum + slice.count, 0)).toBe(2);
    // Another agency's analyst cannot read it; a province analyst can.
    expect((await h.call('GET', `/api/hunts/${done.id}`, h.key.agencyB)).statusCode).toBe(404);
    expect((await h.call('GET', `/api/hunts/${done.id}`, h.key.analyst)).statusCode).toBe(200);

    const province = await h.call('POST', `/api/rules/${FAILED_PASSWORD}/hunt`, h.key.analyst, {
      from: at(180),
      limit: 1,
    });
    const all = await waitFor(async () => {
      const job = (await h.call('GET', `/api/hunts/${province.json().id}`, h.key.analyst)).json();
      return job.state === 'running' ? undefined : job;
    });
    expect(all).toMatchObject({ state: 'done', matched: 3 });
    expect(all.events.map((e: SecurityEvent) => e.event.id)).toEqual(['e1']);
    expect((await h.call('GET', `/api/hunts/${all.id}`, h.key.agencyA)).statusCode).toBe(404);

    const backwards = await h.call('POST', `/api/rules/${FAILED_PASSWORD}/hunt`, h.key.analyst, {
      from: at(0),
      to: at(10),
    });
    expect(backwards.statusCode).toBe(400);
  });

  it('hunts a correlation through the detections under it, with its firings, within the agency scope', async () => {
    const attacker = '198.51.100.7';
    // Agency A: 12 failed passwords from one address 30 s apart (the tenth completes a firing; two remain).
    // Agency B: 10 from the same address an hour later. Another address in A: 9, one short.
    const burst = (prefix: string, agency: string, startMinutesAgo: number, count: number, ip: string) =>
      Array.from({ length: count }, (_, i) =>
        failedPassword(`${prefix}${i}`, agency, at(startMinutesAgo - i / 2), ip),
      );
    await h.events.index([
      ...burst('bfa-', AGENCY_A, 300, 12, attacker),
      ...burst('bfb-', AGENCY_B, 240, 10, attacker),
      ...burst('near-', AGENCY_A, 200, 9, '192.0.2.44'),
    ]);
    await h.refresh();
    const hunt = async (key: string) => {
      const started = await h.call('POST', `/api/rules/${BRUTE_FORCE}/hunt`, key, {
        from: at(360),
        to: at(0),
      });
      expect(started.statusCode).toBe(202);
      expect(started.json()).toMatchObject({ kind: 'correlation', ruleTitle: 'SSH Brute Force' });
      return waitFor(async () => {
        const job = (await h.call('GET', `/api/hunts/${started.json().id}`, key)).json();
        return job.state === 'running' ? undefined : job;
      });
    };
    const agencyA = await hunt(h.key.agencyA);
    expect(agencyA).toMatchObject({ state: 'done', progress: 1, matched: 1, events: [] });
    expect(agencyA.firings).toEqual([
      {
        time: at(300 - 9 / 2),
        groupBy: { 'source.ip': attacker },
        value: 10,
        eventIds: Array.from({ length: 10 }, (_, i) => `bfa-${i}`),
      },
    ]);
    expect(agencyA.slices.reduce((sum: number, slice: { count: number }) => sum + slice.count, 0)).toBe(1);

    const province = await hunt(h.key.analyst);
    expect(province.matched).toBe(2);
    // Newest first: agency B's burst fired last.
    expect(province.firings.map((f: { eventIds: string[] }) => f.eventIds[0])).toEqual(['bfb-0', 'bfa-0']);

    const filter = await h.call('POST', '/api/rules', h.key.admin, {
      yaml: [
        'title: Not huntable on its own',
        'id: 5d9c4e0a-8f1b-4c2d-9e3f-a0b1c2d3e4f5',
        'filter:',
        '  rules: [ssh_failed_password]',
        '  selection: { source.ip: 10.0.0.1 }',
        '  condition: selection',
        '',
      ].join('\n'),
    });
    expect(filter.statusCode).toBe(201);
    const refused = await h.call(
      'POST',
      '/api/rules/5d9c4e0a-8f1b-4c2d-9e3f-a0b1c2d3e4f5/hunt',
      h.key.analyst,
      {},
    );
    expect(refused.statusCode).toBe(422);
    expect(refused.json().error.code).toBe('not_huntable');
  });
});
