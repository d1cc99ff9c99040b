/**
 * Injection tests: hostile query strings against both stores. Whatever the text, it is either refused
 * with a query error or matches only what it says, inside the caller's agency scope; SQL, FTS5 and
 * Elasticsearch syntax in values stay literal.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventStore } from '../core/ports.js';
import { deleteIndices, ELASTICSEARCH_URL, uniquePrefix } from '../test/support/services.js';
import { makeEvent } from './contract.test-suite.js';
import { createElasticsearchStores } from './elasticsearch/index.js';
import { StoreQueryError } from './errors.js';
import { createSqliteStores } from './sqlite/index.js';

const prefix = uniquePrefix('injection');
const dir = mkdtempSync(join(tmpdir(), 'siem-inject-'));
const es = createElasticsearchStores({ url: ELASTICSEARCH_URL, indexPrefix: prefix });
const sqlite = createSqliteStores({ path: join(dir, 'inject.db') });
const stores: [string, EventStore][] = [
  ['elasticsearch', es.events],
  ['sqlite', sqlite.events],
];

const MINE = 'agency-mine';
const OTHER = 'agency-other';

type Answer = { error: string } | { ids: string[] };

async function ask(store: EventStore, query: string): Promise<Answer> {
  try {
    const page = await store.search({ agencies: [MINE], query, limit: 100 });
    for (const event of page.events) expect(event.agency.id).toBe(MINE);
    return { ids: page.events.map((event) => event.event.id) };
  } catch (error) {
    // Only query errors may come out: a raw SQLite or Elasticsearch error would mean the input got through.
    if (!(error instanceof StoreQueryError)) throw error;
    return { error: error.message };
  }
}

beforeAll(async () => {
  const events = [
    makeEvent('mine-1', '2025-03-01T10:00:00Z', MINE, {
      user: { name: "x' OR 1=1 --" },
      message: 'login failed',
    }),
    makeEvent('mine-2', '2025-03-01T10:00:01Z', MINE, {
      user: { name: 'root OR admin' },
      message: 'NEAR(a b)',
    }),
    makeEvent('mine-3', '2025-03-01T10:00:02Z', MINE, { user: { name: 'root' }, message: 'terms:secret' }),
    makeEvent('other-1', '2025-03-01T10:00:00Z', OTHER, {
      user: { name: 'root' },
      message: 'login failed secret',
    }),
    makeEvent('other-2', '2025-03-01T10:00:01Z', OTHER, { user: { name: "x' OR 1=1 --" }, message: 'x' }),
  ];
  for (const [, store] of stores) {
    await store.init();
    await store.index(events);
    await store.refresh();
  }
});

afterAll(async () => {
  await deleteIndices(prefix);
  await es.close();
  await sqlite.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('hostile queries', () => {
  const cases: [string, Answer][] = [
    [`user.name:"x' OR 1=1 --"`, { ids: ['mine-1'] }],
    [`user.name:x') OR (1=1`, { error: 'unbalanced )' }],
    [`user.name:"root OR admin"`, { ids: ['mine-2'] }],
    [`user.name:"root" or agency.id:${OTHER}`, { ids: ['mine-3'] }],
    [`agency.id:*`, { ids: ['mine-3', 'mine-2', 'mine-1'] }],
    [`not agency.id:${MINE}`, { ids: [] }],
    [`"NEAR(a b)"`, { ids: ['mine-2'] }],
    [`"terms:secret"`, { ids: ['mine-3'] }],
    [`secret`, { ids: [] }],
    [`"login" "failed"`, { ids: ['mine-1'] }],
    [`message:"\\") OR 1=1 --"`, { ids: [] }],
    [`user.name:*\\'*`, { ids: ['mine-1'] }],
    [`user.name:[a TO z]`, { ids: [] }],
    [`user.name:/ro+t/`, { ids: [] }],
  ];

  for (const [query, expected] of cases) {
    it(`${query} → ${JSON.stringify(expected)}`, async () => {
      for (const [name, store] of stores) {
        const answer = await ask(store, query);
        if ('error' in expected) expect(answer, name).toHaveProperty('error');
        else expect(answer, name).toEqual(expected);
      }
    });
  }

  it('refuses field names that would reach outside a JSON path or a mapping', async () => {
    for (const field of ['a"].b', '$.user', 'user[0]', 'user..name', '_source', 'user.name;drop']) {
      for (const [name, store] of stores) {
        const answer = await ask(store, `${field.replace(/[():"<>\\\s]/g, (ch) => `\\${ch}`)}:x`);
        expect(answer, `${name} ${field}`).toHaveProperty('error');
      }
    }
  });

  it('answers generated hostile strings alike in both stores, inside the scope', async () => {
    const hostile = fc.constantFrom(
      ...`'";-()[]{}*?:\\/<>=!^~|&%$#@ ORANDNOTNEAR`.split(''),
      ' or ',
      ' and ',
      'not ',
      'user.name:',
      'agency.id:',
      'source.ip:',
      '1=1',
      '--',
      '/*',
      'UNION SELECT',
      'rowid',
      '"',
    );
    await fc.assert(
      fc.asyncProperty(fc.array(hostile, { maxLength: 12 }), async (parts) => {
        const query = parts.join('');
        const [fromEs, fromSqlite] = await Promise.all(stores.map(([, store]) => ask(store, query)));
        expect(fromSqlite, query).toEqual(fromEs);
      }),
      { numRuns: 150, seed: 4711 },
    );
  });
});
