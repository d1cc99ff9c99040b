import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import type { Detection } from '../../core/model.js';
import { createSqliteStores } from './index.js';

const dir = mkdtempSync(join(tmpdir(), 'siem-detections-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function detection(id: string, timestamp: string, batchId: string): Detection {
  return {
    id,
    ruleId: 'corr-a',
    ruleTitle: 'A',
    level: 'high',
    tags: [],
    eventIds: ['e-1', 'e-2'],
    groupBy: { 'source.ip': '10.0.0.7' },
    agency: 'ag-a',
    timestamp,
    batchId,
    firstSeen: '2025-03-01T09:59:00.000Z',
    detectionIds: ['det-e-1', 'det-e-2'],
    agencies: ['ag-a'],
    correlation: { type: 'event_count', value: 2 },
  };
}

describe('sqlite detections', () => {
  // A correlation detection's id is digest(rule, group, completing hit) and its time the window's end, which
  // depends on the hits present when it fired: re-delivered after the window state was lost (embedded mode's
  // state is in memory; Redis keys expire), the same completing hit can close a window ending at another
  // time. Elasticsearch creates by `_id` and keeps the first; the SQLite store must too.
  it('keeps a re-delivered detection once when its time changed, the first as written', async () => {
    for (const writerThread of [false, true]) {
      const stores = createSqliteStores({ path: join(dir, `redelivered-${writerThread}.db`), writerThread });
      const first = detection('det-corr-1', '2025-03-01T10:00:05.000Z', 'b-1');
      await stores.incidents.addDetections([first]);
      await stores.incidents.addDetections([detection('det-corr-1', '2025-03-01T10:00:09.000Z', 'b-2')]);
      await stores.incidents.addDetections([
        detection('det-corr-1', '2025-03-01T09:59:58.000Z', 'b-3'),
        detection('det-corr-2', '2025-03-01T10:00:09.000Z', 'b-3'),
      ]);
      const stored = await stores.incidents.listDetections!({ agencies: ['ag-a'] });
      expect(stored.map((item) => [item.id, item.timestamp, item.batchId])).toEqual([
        ['det-corr-2', '2025-03-01T10:00:09.000Z', 'b-3'],
        ['det-corr-1', '2025-03-01T10:00:05.000Z', 'b-1'],
      ]);
      await stores.close();
    }
  });

  it('keeps the earliest of a correlation detection stored twice by a version 11 file', async () => {
    const path = join(dir, 'v11.db');
    const stores = createSqliteStores({ path });
    await stores.close();
    // Back to layout 11: no unique index, the same correlation detection at two times, a rule's at two.
    const v11 = new BetterSqlite3(path);
    v11.exec('DROP INDEX detections_correlation_id');
    const insert = v11.prepare(
      'INSERT INTO detections (id, rule_id, agency, ts, doc) VALUES (?, ?, ?, ?, ?)',
    );
    const store = (stored: Detection) =>
      insert.run(
        stored.id,
        stored.ruleId,
        stored.agency,
        `${stored.timestamp.slice(0, 23)}000000Z`,
        JSON.stringify(stored),
      );
    store(detection('det-corr-1', '2025-03-01T10:00:09.000Z', 'b-2'));
    store(detection('det-corr-1', '2025-03-01T10:00:05.000Z', 'b-1'));
    const { correlation: _, ...rule } = detection('det-rule-1', '2025-03-01T10:00:01.000Z', 'b-1');
    store(rule);
    store({ ...rule, timestamp: '2025-03-01T10:00:02.000Z' });
    v11.pragma('user_version = 11');
    v11.close();

    const reopened = createSqliteStores({ path });
    const stored = await reopened.incidents.listDetections!({ agencies: ['ag-a'] });
    // A rule's detection keeps its event's time on re-delivery: left as it was.
    expect(stored.map((item) => [item.id, item.batchId])).toEqual([
      ['det-corr-1', 'b-1'],
      ['det-rule-1', 'b-1'],
      ['det-rule-1', 'b-1'],
    ]);
    await reopened.incidents.addDetections([detection('det-corr-1', '2025-03-01T10:00:07.000Z', 'b-3')]);
    expect((await reopened.incidents.listDetections!({ agencies: ['ag-a'] })).length).toBe(3);
    await reopened.close();
  });
});
