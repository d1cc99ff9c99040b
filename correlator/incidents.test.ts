/**
 * Incident grouping against both real stores: the same scenarios on SQLite (embedded) and Elasticsearch
 * (scale), including concurrent writers and re-delivered batches.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digest } from '../core/identity.js';
import { createLogger } from '../core/logger.js';
import type { Detection } from '../core/model.js';
import type { IncidentStore } from '../core/ports.js';
import { createElasticsearchStores } from '../store/elasticsearch/index.js';
import { createSqliteStores } from '../store/sqlite/index.js';
import { deleteIndices, ELASTICSEARCH_URL, uniquePrefix } from '../test/support/services.js';
import { Escalation, MemoryEntityRegistry } from './escalation.js';
import { IncidentWriter } from './incidents.js';

const logger = createLogger({ level: 'silent' });
const HOUR = 3_600_000;

interface Harness {
  store: IncidentStore;
  close(): Promise<void>;
}

function sqliteHarness(writerThread: boolean): () => Promise<Harness> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'siem-incidents-'));
    const stores = createSqliteStores({ path: join(dir, 'siem.sqlite'), logger, writerThread });
    await stores.incidents.init();
    return {
      store: stores.incidents,
      close: async () => {
        await stores.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  };
}

const harnesses: Record<string, () => Promise<Harness>> = {
  sqlite: sqliteHarness(false),
  // What `siem-lite serve` runs: writes on the writer thread, reads on the main connection.
  'sqlite with a writer thread': sqliteHarness(true),
  elasticsearch: async () => {
    const prefix = uniquePrefix('incidents');
    const stores = createElasticsearchStores({ url: ELASTICSEARCH_URL, indexPrefix: prefix, logger });
    await stores.incidents.init();
    return {
      store: stores.incidents,
      close: async () => {
        await stores.close();
        await deleteIndices(prefix);
      },
    };
  },
};

let counter = 0;
function detection(overrides: Partial<Detection> & { batchId: string }): Detection {
  const eventId = `event-${++counter}`;
  return {
    id: digest('detection', 'rule-ssh', eventId),
    ruleId: 'rule-ssh',
    ruleTitle: 'SSH failed password',
    level: 'medium',
    tags: ['attack.credential_access', 'attack.t1110'],
    eventIds: [eventId],
    groupBy: { 'source.ip': '203.0.113.5' },
    agency: 'so-tttt',
    timestamp: '2026-11-26T01:00:00.000Z',
    ...overrides,
  };
}

describe.each(Object.keys(harnesses))('IncidentWriter on %s', (name) => {
  let harness: Harness;
  let writer: IncidentWriter;
  beforeAll(async () => {
    harness = await harnesses[name]!();
    writer = new IncidentWriter(harness.store, { suppressionWindowMs: 24 * HOUR }, logger);
  });
  afterAll(async () => harness?.close());

  const incidentsFor = async (ip: string) => {
    await harness.store.refresh();
    return (await harness.store.list({ limit: 100 })).filter(
      (incident) => incident.groupBy['source.ip'] === ip,
    );
  };

  it('groups detections with the same key into one incident across batches', async () => {
    const ip = '198.51.100.1';
    for (let b = 0; b < 3; b++) {
      await writer.apply(
        Array.from({ length: 10 }, () => detection({ batchId: `g-${b}`, groupBy: { 'source.ip': ip } })),
      );
    }
    const incidents = await incidentsFor(ip);
    expect(incidents).toHaveLength(1);
    expect(incidents[0]).toMatchObject({
      detectionCount: 30,
      status: 'new',
      severity: 'medium',
      agency: 'so-tttt',
      tactics: ['credential_access'],
      techniques: ['T1110'],
      title: 'SSH failed password — source.ip 198.51.100.1',
    });
    expect(incidents[0]!.evidenceEventIds).toHaveLength(30);
  });

  it('gives each change the version its incident is stored at', async () => {
    const ip = '198.51.100.9';
    for (const batchId of ['v-1', 'v-2']) {
      const changes = await writer.apply([detection({ batchId, groupBy: { 'source.ip': ip } })]);
      expect(changes).toHaveLength(1);
      const stored = await harness.store.get(changes[0]!.incident.id);
      expect(changes[0]!.version).toBe(stored!.version);
      expect(changes[0]!.incident).toEqual(stored!.value);
    }
  });

  it('ignores a re-delivered batch', async () => {
    const ip = '198.51.100.2';
    const batch = Array.from({ length: 5 }, () =>
      detection({ batchId: 'redelivered', groupBy: { 'source.ip': ip } }),
    );
    await writer.apply(batch);
    await writer.apply(batch);
    await writer.apply([detection({ batchId: 'next', groupBy: { 'source.ip': ip } })]);
    await writer.apply(batch);
    const incidents = await incidentsFor(ip);
    expect(incidents.map((incident) => incident.detectionCount)).toEqual([6]);
  });

  it('lets concurrent writers agree on one incident and lose no detection', async () => {
    const ip = '198.51.100.3';
    const writers = Array.from(
      { length: 4 },
      () => new IncidentWriter(harness.store, { suppressionWindowMs: 24 * HOUR }, logger),
    );
    await Promise.all(
      writers.flatMap((w, i) =>
        Array.from({ length: 3 }, (_, b) =>
          w.apply(
            Array.from({ length: 2 }, () =>
              detection({ batchId: `c-${i}-${b}`, groupBy: { 'source.ip': ip } }),
            ),
          ),
        ),
      ),
    );
    const incidents = await incidentsFor(ip);
    expect(incidents).toHaveLength(1);
    expect(incidents[0]!.detectionCount).toBe(24);
  });

  it('fills in an incident whose pointer was set but never written (a writer crashed or is mid-create)', async () => {
    const ip = '198.51.100.6';
    const pending = detection({ batchId: 'p-1', groupBy: { 'source.ip': ip } });
    const key = `so-tttt|rule-ssh|source.ip=${ip}`;
    expect(await harness.store.setDedupPointer(key, 'incident-in-flight', null)).toBe('ok');
    await writer.apply([pending]);
    await writer.apply([detection({ batchId: 'p-2', groupBy: { 'source.ip': ip } })]);
    const incidents = await incidentsFor(ip);
    expect(incidents.map((incident) => [incident.id, incident.detectionCount])).toEqual([
      ['incident-in-flight', 2],
    ]);
  });

  it('opens a new incident after the suppression window or once the previous one is closed', async () => {
    const ip = '198.51.100.4';
    await writer.apply([
      detection({ batchId: 'w-1', groupBy: { 'source.ip': ip }, timestamp: '2026-11-20T00:00:00Z' }),
    ]);
    // 25 hours later: outside the 24 h window.
    await writer.apply([
      detection({ batchId: 'w-2', groupBy: { 'source.ip': ip }, timestamp: '2026-11-21T01:00:00Z' }),
    ]);
    let incidents = await incidentsFor(ip);
    expect(incidents).toHaveLength(2);

    const latest = incidents.find((incident) => incident.lastSeen.startsWith('2026-11-21'))!;
    const stored = (await harness.store.get(latest.id))!;
    expect(await harness.store.update({ ...stored.value, status: 'resolved' }, stored.version)).toBe('ok');
    const linking = new IncidentWriter(
      harness.store,
      { suppressionWindowMs: 24 * HOUR, onRecurrence: 'link' },
      logger,
    );
    const changes = await linking.apply([
      detection({ batchId: 'w-3', groupBy: { 'source.ip': ip }, timestamp: '2026-11-21T02:00:00Z' }),
    ]);
    expect(changes.map((change) => change.kind)).toEqual(['opened']);
    expect(changes[0]!.incident.previousIncidentId).toBe(latest.id);
    incidents = await incidentsFor(ip);
    expect(incidents).toHaveLength(3);
    expect(incidents.filter((incident) => incident.status === 'new')).toHaveLength(2);
  });

  it('reopens a resolved incident on recurrence (the default), never a false positive', async () => {
    const ip = '198.51.100.7';
    const [opened] = await writer.apply([detection({ batchId: 'r-1', groupBy: { 'source.ip': ip } })]);
    const stored = (await harness.store.get(opened!.incident.id))!;
    expect(await harness.store.update({ ...stored.value, status: 'resolved' }, stored.version)).toBe('ok');
    const [reopened] = await writer.apply([detection({ batchId: 'r-2', groupBy: { 'source.ip': ip } })]);
    expect(reopened).toMatchObject({
      kind: 'reopened',
      incident: { id: opened!.incident.id, status: 'new' },
    });
    expect(reopened!.incident.timeline.at(-1)).toMatchObject({
      action: 'reopened',
      detail: { from: 'resolved' },
    });

    const again = (await harness.store.get(opened!.incident.id))!;
    expect(await harness.store.update({ ...again.value, status: 'false_positive' }, again.version)).toBe(
      'ok',
    );
    const [linked] = await writer.apply([detection({ batchId: 'r-3', groupBy: { 'source.ip': ip } })]);
    expect(linked).toMatchObject({ kind: 'opened', incident: { previousIncidentId: opened!.incident.id } });
    expect((await incidentsFor(ip)).map((i) => [i.status, i.detectionCount]).sort()).toEqual([
      ['false_positive', 2],
      ['new', 1],
    ]);
  });

  it('raises the severity of every incident of an entity hit by two rules, once', async () => {
    const ip = '198.51.100.8';
    const escalating = new IncidentWriter(
      harness.store,
      { suppressionWindowMs: 24 * HOUR },
      logger,
    ).withEscalation(
      new Escalation(harness.store, new MemoryEntityRegistry(), { windowMs: 24 * HOUR, logger }),
    );
    await escalating.apply([detection({ batchId: 'x-1', groupBy: { 'source.ip': ip } })]);
    expect((await incidentsFor(ip)).map((i) => i.severity)).toEqual(['medium']);
    const changes = await escalating.apply([
      detection({ batchId: 'x-2', groupBy: { 'source.ip': ip }, ruleId: 'rule-sudo', level: 'high' }),
    ]);
    expect(changes.map((c) => c.kind).sort()).toEqual(['opened', 'updated', 'updated']);
    await escalating.apply([
      detection({ batchId: 'x-3', groupBy: { 'source.ip': ip }, ruleId: 'rule-sudo' }),
    ]);
    const incidents = await incidentsFor(ip);
    expect(incidents.map((i) => `${i.ruleId}:${i.severity}`).sort()).toEqual([
      'rule-ssh:high',
      'rule-sudo:critical',
    ]);
    expect(incidents.find((i) => i.ruleId === 'rule-ssh')!.escalation).toMatchObject({
      entity: `source.ip=${ip}`,
      rules: ['rule-ssh', 'rule-sudo'],
      from: 'medium',
    });
  });

  it('keeps different agencies and rules apart', async () => {
    const ip = '198.51.100.5';
    await writer.apply([
      detection({ batchId: 'a-1', groupBy: { 'source.ip': ip } }),
      detection({ batchId: 'a-1', groupBy: { 'source.ip': ip }, agency: 'so-y-te' }),
      detection({ batchId: 'a-1', groupBy: { 'source.ip': ip }, ruleId: 'rule-other', level: 'high' }),
    ]);
    const incidents = await incidentsFor(ip);
    expect(
      incidents.map((incident) => `${incident.agency}/${incident.ruleId}/${incident.severity}`).sort(),
    ).toEqual(['so-tttt/rule-other/high', 'so-tttt/rule-ssh/medium', 'so-y-te/rule-ssh/medium']);
  });
});
