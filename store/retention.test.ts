import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventStore } from '../core/ports.js';
import { deleteIndices, ELASTICSEARCH_URL, uniquePrefix } from '../test/support/services.js';
import { freshAgency, makeEvent } from './contract.test-suite.js';
import { createElasticsearchStores } from './elasticsearch/index.js';
import { retentionCutoff, startRetention } from './retention.js';
import { createSqliteStores } from './sqlite/index.js';

const NOW = Date.parse('2024-02-10T15:00:00Z');

interface StoreCase {
  events: EventStore;
  dispose(): Promise<void>;
}

const stores: Record<string, () => Promise<StoreCase>> = {
  sqlite: async () => {
    const dir = mkdtempSync(join(tmpdir(), 'siem-retention-'));
    const opened = createSqliteStores({ path: join(dir, 'siem.sqlite') });
    return {
      events: opened.events,
      async dispose() {
        await opened.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
  elasticsearch: async () => {
    const prefix = uniquePrefix('retention');
    const opened = createElasticsearchStores({ url: ELASTICSEARCH_URL, indexPrefix: prefix });
    return {
      events: opened.events,
      async dispose() {
        await deleteIndices(prefix);
        await opened.close();
      },
    };
  },
};

async function ids(events: EventStore, agency: string): Promise<string[]> {
  await events.refresh();
  const page = await events.search({ agencies: [agency], limit: 100 });
  return page.events.map((event) => event.event.id).sort();
}

describe('retentionCutoff', () => {
  it('is events_days before now', () => {
    expect(retentionCutoff(NOW, 30)).toBe('2024-01-11T15:00:00.000Z');
  });
});

for (const [name, open] of Object.entries(stores)) {
  describe(`retention schedule on ${name}`, () => {
    let store: StoreCase;
    beforeAll(async () => {
      store = await open();
      await store.events.init();
    });
    afterAll(async () => store?.dispose());

    it('deletes the days past retention at start and at every check, and keeps the rest', async () => {
      const agency = freshAgency();
      await store.events.index([
        makeEvent('old-1', '2024-01-09T08:00:00.000Z', agency),
        makeEvent('old-2', '2024-01-10T23:59:59.999Z', agency),
        makeEvent('kept-1', '2024-01-11T00:00:00.000Z', agency),
        makeEvent('kept-2', '2024-02-10T14:00:00.000Z', agency),
      ]);
      let now = NOW;
      const scheduler = startRetention(store.events, { eventsDays: 30, checkEveryMs: 50, now: () => now });
      try {
        // The first check runs at start: days before 2024-01-11 go.
        await expect.poll(() => ids(store.events, agency), { timeout: 20_000 }).toEqual(['kept-1', 'kept-2']);
        // A day later, the next tick removes 2024-01-11 too.
        now += 86_400_000;
        await expect.poll(() => ids(store.events, agency), { timeout: 20_000 }).toEqual(['kept-2']);
        // Nothing left to delete: a check is a no-op.
        expect(await scheduler.runOnce()).toEqual({ days: [], events: 0 });
      } finally {
        await scheduler.stop();
      }
    });
  });
}

describe('retention schedule', () => {
  it('logs a failed check and keeps its schedule', async () => {
    let calls = 0;
    const failing = {
      async deleteBefore() {
        calls++;
        throw new Error('store down');
      },
    } as unknown as EventStore;
    const warnings: string[] = [];
    const logger = { info() {}, warn: (_: unknown, message: string) => warnings.push(message) };
    const scheduler = startRetention(failing, {
      eventsDays: 7,
      checkEveryMs: 20,
      logger: logger as never,
    });
    await expect.poll(() => calls, { timeout: 5_000 }).toBeGreaterThanOrEqual(3);
    expect(await scheduler.runOnce()).toBeUndefined();
    await scheduler.stop();
    const after = calls;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(calls).toBe(after);
    expect(warnings[0]).toContain('retention check failed');
  });

  it('refuses a retention below one day', () => {
    expect(() => startRetention({} as EventStore, { eventsDays: 0, checkEveryMs: 1000 })).toThrow(
      /events_days/,
    );
  });
});
