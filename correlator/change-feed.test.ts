/** The change feed in both modes: what one process publishes, every subscriber (in any process) receives. */
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../core/logger.js';
import type { Incident } from '../core/model.js';
import type { ChangeFeed, IncidentChange } from '../core/ports.js';
import { REDIS_URL, uniquePrefix } from '../test/support/services.js';
import { MemoryChangeFeed, RedisChangeFeed } from './change-feed.js';

const logger = createLogger({ level: 'silent' });
const change = (id: string): IncidentChange => ({
  kind: 'opened',
  incident: { id, title: `incident ${id}` } as Incident,
  actor: 'system',
  at: '2026-11-26T02:00:00.000Z',
});

async function received(
  feed: ChangeFeed,
  count: number,
): Promise<{ got: string[]; stop: () => Promise<void> }> {
  const got: string[] = [];
  const stop = await feed.subscribe((c) => got.push(c.incident.id));
  return {
    got,
    stop: async () => {
      const deadline = Date.now() + 5000;
      while (got.length < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      await stop();
    },
  };
}

describe('ChangeFeed', () => {
  it('in memory: every subscriber gets each change; an unsubscribed one gets nothing more', async () => {
    const feed = new MemoryChangeFeed();
    const a = await received(feed, 2);
    const b = await received(feed, 1);
    await feed.publish(change('1'));
    await b.stop();
    await feed.publish(change('2'));
    await a.stop();
    expect(a.got).toEqual(['1', '2']);
    expect(b.got).toEqual(['1']);
  });

  describe('over Redis pub/sub', () => {
    const prefix = uniquePrefix('feed');
    const feeds: ChangeFeed[] = [];
    afterAll(async () => {
      for (const feed of feeds) await feed.close();
    });

    it('delivers what a worker publishes to an API process subscribed on another connection', async () => {
      const worker = new RedisChangeFeed({ redisUrl: REDIS_URL, prefix, logger });
      const apiProcess = new RedisChangeFeed({ redisUrl: REDIS_URL, prefix, logger });
      const otherDeployment = new RedisChangeFeed({ redisUrl: REDIS_URL, prefix: `${prefix}-other`, logger });
      feeds.push(worker, apiProcess, otherDeployment);
      const api = await received(apiProcess, 3);
      const other = await received(otherDeployment, 0);
      for (const id of ['a', 'b', 'c']) await worker.publish(change(id));
      await api.stop();
      await other.stop();
      expect(api.got).toEqual(['a', 'b', 'c']);
      expect(other.got).toEqual([]);
    });
  });
});
