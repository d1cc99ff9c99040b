/**
 * Rules that follow the repository: a false-positive filter stored through one repository instance (the
 * API's) applies to the next event matched by a worker holding another instance — SQLite (embedded) and
 * Elasticsearch with change notices over Redis (scale, two "processes").
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@elastic/elasticsearch';
import BetterSqlite3 from 'better-sqlite3';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../core/logger.js';
import type { SecurityEvent } from '../core/model.js';
import type { RuleRepository, StoredRule } from '../core/ports.js';
import { BUNDLED_PACK } from '../rules/index.js';
import { ElasticsearchRuleRepository } from '../store/elasticsearch/rule-store.js';
import { SqliteRuleRepository } from '../store/sqlite/rule-store.js';
import { deleteIndices, ELASTICSEARCH_URL, REDIS_URL, uniquePrefix } from '../test/support/services.js';
import { LiveRuleSet } from './live-rules.js';

const logger = createLogger({ level: 'silent' });

const sudo = (user: string): SecurityEvent =>
  ({
    '@timestamp': '2026-11-26T02:00:00.000Z',
    event: { id: `sudo-${user}`, ingested: '', original: '', outcome: 'success', action: 'sudo_command' },
    process: { name: 'sudo' },
    user: { name: user, effective: { name: 'root' } },
    agency: { id: 'so-tttt' },
  }) as SecurityEvent;

const FILTER: StoredRule = {
  id: 'fp-khach',
  kind: 'filter',
  enabled: true,
  origin: 'api',
  updatedAt: '2026-11-26T02:00:00.000Z',
  updatedBy: 'analyst',
  yaml: `title: khach is allowed (false positive on incident 42)
id: 0f0f0f0f-0000-4000-8000-000000000001
logsource: {product: linux, service: sudo}
filter:
  rules: [sudo_root_unusual_user]
  khach: {user.name: khach}
  condition: not khach
`,
};

async function rulesMatching(live: LiveRuleSet, event: SecurityEvent): Promise<string[]> {
  return live
    .get()
    .match(event)
    .map((m) => m.rule.title);
}

async function expectReloaded(live: LiveRuleSet, generation: number) {
  const deadline = Date.now() + 10_000;
  while ((await live.settled()) <= generation && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 50));
  expect(await live.settled()).toBeGreaterThan(generation);
}

async function scenario(writer: RuleRepository, reader: RuleRepository) {
  const live = new LiveRuleSet({ packs: [BUNDLED_PACK], repository: reader, logger });
  await live.start();
  expect(await rulesMatching(live, sudo('khach'))).toContain('Sudo To Root By An Unusual User');
  let generation = await live.settled();

  // The analyst marks the incident a false positive: the filter is stored; the worker applies it at once.
  expect(await writer.put(FILTER, null)).toBe('ok');
  await expectReloaded(live, generation);
  expect(await rulesMatching(live, sudo('khach'))).not.toContain('Sudo To Root By An Unusual User');
  expect(await rulesMatching(live, sudo('mallory'))).toContain('Sudo To Root By An Unusual User');

  // Disabling a bundled rule through the repository removes it too.
  generation = await live.settled();
  expect(
    await writer.put(
      { ...FILTER, id: 'ce74a55f-e605-40c1-bc65-12b86086d4f4', kind: 'detection', enabled: false, yaml: '' },
      null,
    ),
  ).toBe('ok');
  await expectReloaded(live, generation);
  expect(await rulesMatching(live, sudo('mallory'))).not.toContain('Sudo To Root By An Unusual User');
  await live.close();
}

describe('LiveRuleSet', () => {
  it('applies a stored false-positive filter to the next event (SQLite, another connection)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'siem-live-rules-'));
    const path = join(dir, 'siem.sqlite');
    const api = new SqliteRuleRepository(new BetterSqlite3(path), { pollMs: 50 });
    const worker = new SqliteRuleRepository(new BetterSqlite3(path), { pollMs: 50 });
    await api.init();
    await worker.init();
    try {
      await scenario(api, worker);
    } finally {
      await api.close();
      await worker.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('on Elasticsearch with change notices over Redis', () => {
    const prefix = uniquePrefix('live-rules');
    const client = new Client({ node: ELASTICSEARCH_URL });
    afterAll(async () => {
      await client.close();
      await deleteIndices(prefix);
      const redis = new Redis(REDIS_URL);
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    });

    it('applies it in another process-like instance as soon as the change is announced', async () => {
      const notifications = { redisUrl: REDIS_URL, prefix };
      const api = new ElasticsearchRuleRepository(client, `${prefix}-rules`, notifications);
      const worker = new ElasticsearchRuleRepository(client, `${prefix}-rules`, notifications);
      await api.init();
      await worker.init();
      try {
        await scenario(api, worker);
      } finally {
        await api.close();
        await worker.close();
      }
    });
  });
});
