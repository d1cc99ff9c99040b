/**
 * The three backends must agree: over the bundled fixtures' events, indexed by the real stores (Elasticsearch
 * and SQLite), every bundled detection rule matches the same events through the matcher, the Elasticsearch
 * query and the SQL condition.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SecurityEvent } from '../../core/model.js';
import {
  createElasticsearchStores,
  type ElasticsearchStores,
  indexNames,
} from '../../store/elasticsearch/index.js';
import { createSqliteStores, type SqliteStores } from '../../store/sqlite/index.js';
import { deleteIndices, ELASTICSEARCH_URL, uniquePrefix } from '../../test/support/services.js';
import { loadFixtures } from '../fixtures/fixtures.js';
import {
  BUNDLED_PACK,
  compileToElasticsearch,
  compileToSql,
  type FilterRule,
  loadRuleSet,
  registerSigmaSqlFunctions,
} from '../index.js';

describe('matcher, Elasticsearch and SQL backends agree on the bundled pack', () => {
  const { ruleSet, rules, pipeline } = loadRuleSet({ packs: [BUNDLED_PACK] });
  const filters = rules.filter((r): r is FilterRule => r.kind === 'filter');
  const events: SecurityEvent[] = loadFixtures().flatMap((c) => c.events);
  const prefix = uniquePrefix('rules-diff');
  const dir = mkdtempSync(join(tmpdir(), 'rules-diff-'));
  let es: ElasticsearchStores;
  let sqlite: SqliteStores;
  let db: BetterSqlite3.Database;

  beforeAll(async () => {
    es = createElasticsearchStores({ url: ELASTICSEARCH_URL, indexPrefix: prefix });
    sqlite = createSqliteStores({ path: join(dir, 'events.db') });
    for (const store of [es.events, sqlite.events]) {
      await store.init();
      const result = await store.index(events);
      // A bulk retried after a client timeout (a loaded machine) finds its first attempt's events already
      // there: they count as duplicates, and are stored all the same.
      expect(result.indexed + result.duplicates).toBe(events.length);
      await store.refresh();
    }
    // A second connection to the store's file, with the functions the compiled conditions call.
    db = new BetterSqlite3(join(dir, 'events.db'), { readonly: true });
    registerSigmaSqlFunctions(db);
  });

  afterAll(async () => {
    db?.close();
    await sqlite?.close();
    await es?.close();
    await deleteIndices(prefix);
    rmSync(dir, { recursive: true, force: true });
  });

  const detections = rules.filter((r) => r.kind === 'detection');

  it('indexes the fixtures in both stores and compiles every detection rule to both queries', () => {
    expect(events.length).toBeGreaterThan(100);
    expect(detections.length).toBeGreaterThanOrEqual(15);
  });

  for (const rule of detections) {
    it(`${rule.title}`, async () => {
      const matcher = events
        .filter((e) => ruleSet.match(e).some((m) => m.rule.id === rule.id))
        .map((e) => e.event.id)
        .sort();
      const query = compileToElasticsearch(rule, { pipeline, filters });
      const response = await es.client.search<{ event: { id: string } }>({
        index: indexNames(prefix).events,
        query,
        size: 10_000,
        _source: ['event.id'],
      });
      const fromEs = response.hits.hits.map((h) => h._source!.event.id).sort();
      const sql = compileToSql(rule, { pipeline, filters });
      const rows = db
        .prepare(`SELECT json_extract(doc, '$.event.id') AS id FROM events WHERE ${sql.where}`)
        .all(...sql.params) as { id: string }[];
      const fromSql = rows.map((r) => r.id).sort();
      expect(matcher.length, 'the fixtures exercise every rule').toBeGreaterThan(0);
      expect(fromEs, 'elasticsearch').toEqual(matcher);
      expect(fromSql, 'sql').toEqual(matcher);
    });
  }
});
