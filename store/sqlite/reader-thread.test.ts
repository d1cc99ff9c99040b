/**
 * The tiles' read thread: the same answers as the store's own connection (it reads what was committed
 * before), nothing but its reads can be called through it, and close answers what was asked before it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshAgency, makeEvent, makeIncident } from '../contract.test-suite.js';
import { createSqliteApiStores, createSqliteStores, type SqliteStores } from './index.js';
import { threadTileReader } from './reader-client.js';
import { threadChannel } from './thread-channel.js';

const dir = mkdtempSync(join(tmpdir(), 'siem-reader-thread-'));
const path = join(dir, 'siem.sqlite');
const agency = freshAgency();
let stores: SqliteStores;

beforeAll(async () => {
  stores = createSqliteStores({ path });
  await stores.events.index([
    makeEvent('r1', '2025-03-01T10:00:00Z', agency, { host: { hostname: 'web-1' } }),
    makeEvent('r2', '2025-03-01T10:10:00Z', agency, { host: { hostname: 'web-1' } }),
    makeEvent('r3', '2025-03-01T10:20:00Z', agency, { host: { hostname: 'db-1' } }),
  ]);
  await stores.incidents.create(makeIncident(`ri-1-${agency}`, agency));
  await stores.incidents.create(makeIncident(`ri-2-${agency}`, agency, { severity: 'critical' }));
});
afterAll(async () => {
  await stores.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('sqlite read thread', () => {
  it("answers the tiles' reads as the store's own connection does", async () => {
    const api = createSqliteApiStores({ path });
    await api.init();
    const reader = threadTileReader(path);
    try {
      const search = {
        agencies: [agency],
        time: { from: '2025-03-01T00:00:00Z', to: '2025-03-02T00:00:00Z' },
      };
      expect(await reader.events.topValues(search, 'host.hostname', 10)).toEqual(
        await stores.events.topValues!(search, 'host.hostname', 10),
      );
      expect(await reader.events.lastSeenBy(search, 'host.hostname', 10)).toEqual(
        await stores.events.lastSeenBy!(search, 'host.hostname', 10),
      );
      const scope = {
        agencies: [agency],
        from: '2025-03-01T00:00:00Z',
        to: '2025-03-02T00:00:00Z',
        bucketMs: 3_600_000,
        topTactics: 3,
      };
      const summary = await reader.incidentQueries.summarize(scope);
      expect(summary).toEqual(await api.incidentQueries.summarize(scope));
      expect(summary.open.reduce((sum, cell) => sum + cell.count, 0)).toBe(2);
      expect(await reader.inventory.list({ agencies: [agency] })).toEqual([]);
      // A write committed after the thread's first read is visible to its next one.
      await stores.events.index([
        makeEvent('r4', '2025-03-01T10:30:00Z', agency, { host: { hostname: 'db-1' } }),
      ]);
      const top = await reader.events.topValues(search, 'host.hostname', 10);
      expect(top.buckets).toEqual([
        { key: 'db-1', count: 2 },
        { key: 'web-1', count: 2 },
      ]);
    } finally {
      await reader.close();
      await api.close();
    }
  });

  it('refuses anything but its reads', async () => {
    const channel = threadChannel('reader-thread', { path });
    try {
      await expect(channel.call('events.index', [[]])).rejects.toThrow(/unknown read: events.index/);
      await expect(channel.call('constructor', [])).rejects.toThrow(/unknown read/);
      // A bad argument fails that read alone, with the store's message.
      await expect(
        channel.call('events.topValues', [{ query: 'host.hostname:(' }, 'host.hostname']),
      ).rejects.toThrow();
      expect(await channel.call('sources.list', [{}])).toEqual([]);
    } finally {
      await channel.close();
    }
  });

  it('answers every read sent before close, then refuses new ones', async () => {
    const reader = threadTileReader(path);
    const search = { agencies: [agency] };
    const reads = Array.from({ length: 5 }, () => reader.events.topValues(search, 'agency.id', 5));
    const closed = reader.close();
    for (const answer of await Promise.all(reads)) expect(answer.buckets[0]?.key).toBe(agency);
    await closed;
    await expect(reader.events.topValues(search, 'agency.id', 5)).rejects.toThrow(/closed/);
  });
});
