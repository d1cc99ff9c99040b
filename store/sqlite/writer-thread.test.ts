/**
 * The writer thread's own behaviour (the store contract runs through it too, in sqlite-store.test.ts):
 * requests that arrive together share one transaction, yet each succeeds or fails on its own; reads on the
 * main connection see a write once its promise resolved; close drains what was asked before it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freshAgency, makeEvent } from '../contract.test-suite.js';
import { toEventRows } from './event-rows.js';
import { createSqliteStores } from './index.js';
import type { IncidentRow } from './writer.js';
import { threadWriter } from './writer-client.js';

const dir = mkdtempSync(join(tmpdir(), 'siem-writer-thread-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function batchOf(agency: string, ids: string[]) {
  return toEventRows(ids.map((id) => makeEvent(`${agency}-${id}`, '2025-03-01T10:00:00Z', agency)));
}

describe('sqlite writer thread', () => {
  it('fails only the request that failed when several share a group transaction', async () => {
    const path = join(dir, 'group.db');
    const stores = createSqliteStores({ path });
    const writer = threadWriter(path);
    const agency = freshAgency();
    // Too few values for the insert: SQLite refuses the statement.
    const broken = ['incident-1', agency] as unknown as IncidentRow;
    // Sent in one turn: the thread finds all three queued and applies them in one transaction.
    const [first, bad, second] = await Promise.allSettled([
      writer.writeEvents(batchOf(agency, ['a', 'b'])),
      writer.writeIncidents([{ kind: 'create', row: broken }]),
      writer.writeEvents(batchOf(agency, ['c', 'b-again', 'a'])),
    ]);
    expect(first).toEqual({ status: 'fulfilled', value: { indexed: 2, duplicates: 0, deadLettered: 0 } });
    expect(bad.status).toBe('rejected');
    expect(second).toEqual({ status: 'fulfilled', value: { indexed: 2, duplicates: 1, deadLettered: 0 } });
    // Read on the main connection right after: committed and visible.
    expect(await stores.events.count({ agencies: [agency] })).toBe(4);
    await writer.close();
    await stores.close();
  });

  it('answers every request sent before close, then refuses new ones', async () => {
    const path = join(dir, 'close.db');
    const stores = createSqliteStores({ path, writerThread: true });
    const agency = freshAgency();
    const writes = Array.from({ length: 5 }, (_, i) =>
      stores.events.index([makeEvent(`${agency}-${i}`, '2025-03-01T10:00:00Z', agency)]),
    );
    const closed = stores.close();
    expect((await Promise.all(writes)).map((result) => result.indexed)).toEqual([1, 1, 1, 1, 1]);
    await closed;
    await expect(
      stores.events.index([makeEvent(`${agency}-late`, '2025-03-01T10:00:00Z', agency)]),
    ).rejects.toThrow(/closed/);
    const reopened = createSqliteStores({ path });
    expect(await reopened.events.count({ agencies: [agency] })).toBe(5);
    await reopened.close();
  });
});
