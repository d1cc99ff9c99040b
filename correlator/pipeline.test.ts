/**
 * The batch processor with real stages (normaliser, rules, windows in memory, SQLite stores): an event too
 * late for its correlation window is indexed with the flag and not counted; a rule that only feeds a
 * correlation stores its detections as evidence but opens no incident; a re-delivered batch changes nothing;
 * every change reaches `notify`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AgencyDirectory } from '../core/agencies.js';
import { createLogger } from '../core/logger.js';
import type { RawRecord, RecordBatch } from '../core/model.js';
import type { IncidentChange } from '../core/ports.js';
import { createNormaliser } from '../ingest/normalise.js';
import { ruleSetFromText } from '../rules/index.js';
import { createSqliteStores } from '../store/sqlite/index.js';
import { Correlator } from './correlation/correlate.js';
import { MemoryStateStore } from './correlation/memory-state-store.js';
import { IncidentWriter } from './incidents.js';
import { createBatchProcessor, LATE_TAG } from './pipeline.js';

const logger = createLogger({ level: 'silent' });
const RULES = `title: Failed login
id: 11111111-1111-4111-8111-111111111111
name: failed_login
logsource: {product: linux, service: sshd}
detection:
  sel: {event.outcome: failure}
  condition: sel
level: low
---
title: Brute force
id: 33333333-3333-4333-8333-333333333333
correlation:
  type: event_count
  rules: [failed_login]
  group-by: [source.ip]
  timespan: 1m
  condition: {gte: 3}
level: high
`;

const dir = mkdtempSync(join(tmpdir(), 'siem-pipeline-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const at = (seconds: number) => new Date(Date.UTC(2026, 10, 26, 2, 0, 0) + seconds * 1000).toISOString();
let seq = 0;
const record = (seconds: number, ip: string): RawRecord => ({
  text: `<38>1 ${at(seconds)} bastion sshd 811 - - Failed password for root from ${ip} port ${40000 + seq} ssh2`,
  receivedAt: Date.UTC(2026, 10, 26, 3, 0, 0),
  transport: 'tcp',
  peer: '10.93.2.15:514',
  listener: 'tcp',
  agency: 'so-tttt',
  seq: seq++,
});

describe('batch processor', () => {
  it('flags late events, keeps generate:false detections as evidence only, ignores re-delivery', async () => {
    const stores = createSqliteStores({ path: join(dir, 'siem.sqlite'), logger });
    await stores.events.init();
    await stores.incidents.init();
    const { ruleSet, problems } = ruleSetFromText(RULES);
    expect(problems).toEqual([]);
    const notified: IncidentChange[] = [];
    const process = createBatchProcessor({
      normalise: createNormaliser({ agencies: new AgencyDirectory([]), defaultTimezone: 'UTC' }),
      events: stores.events,
      ruleSet: () => ruleSet,
      correlator: new Correlator(new MemoryStateStore(), {
        latenessMs: 60_000,
        maxHitsPerGroup: 100,
        logger,
      }),
      incidents: new IncidentWriter(stores.incidents, { suppressionWindowMs: 86_400_000 }, logger),
      notify: async (changes) => {
        notified.push(...changes);
      },
      detectOptions: { groupBy: ['source.ip'] },
      logger,
    });

    const first: RecordBatch = { id: 'b1', records: [600, 610, 620].map((s) => record(s, '203.0.113.9')) };
    await process(first);
    // Five minutes behind the group's newest hit, with 1 minute of allowed lateness: late.
    const late = record(300, '203.0.113.9');
    await process({ id: 'b2', records: [late, record(630, '203.0.113.9')] });
    await process(first); // re-delivered

    await stores.incidents.refresh();
    const incidents = await stores.incidents.list({ limit: 10 });
    // Failed login only feeds the correlation (generate: false): one incident, the brute force.
    expect(incidents.map((i) => [i.ruleTitle, i.detectionCount, i.evidenceEventIds.length])).toEqual([
      ['Brute force', 1, 3],
    ]);
    expect(notified.map((c) => c.kind)).toEqual(['opened']);
    const evidence = await stores.incidents.listDetections!({
      ruleId: '11111111-1111-4111-8111-111111111111',
    });
    expect(evidence).toHaveLength(5);

    await stores.events.refresh();
    const page = await stores.events.search({ limit: 10 });
    expect(page.total).toBe(5);
    const flagged = page.events.filter((e) => e.tags?.includes(LATE_TAG)).map((e) => e['@timestamp']);
    expect(flagged).toEqual([at(300)]);
    await stores.close();
  });
});
