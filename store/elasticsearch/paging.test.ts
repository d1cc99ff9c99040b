import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteIndices, ELASTICSEARCH_URL, uniquePrefix } from '../../test/support/services.js';
import { makeEvent } from '../contract.test-suite.js';
import { decodeCursor } from '../cursor.js';
import { createElasticsearchStores } from './index.js';

describe('elasticsearch paging with a point in time', () => {
  const prefix = uniquePrefix('paging');
  const stores = createElasticsearchStores({ url: ELASTICSEARCH_URL, indexPrefix: prefix });
  const agency = 'paging';

  beforeAll(async () => {
    await stores.events.init();
    const events = Array.from({ length: 9 }, (_, i) =>
      makeEvent(`pg-${i}`, `2025-03-0${1 + (i % 3)}T10:00:0${i}.000Z`, agency),
    );
    await stores.events.index(events);
    await stores.events.refresh();
  });

  afterAll(async () => {
    await deleteIndices(prefix);
    await stores.close();
  });

  it('reads later pages from the snapshot taken when paging began', async () => {
    const first = await stores.events.search({ agencies: [agency], limit: 4 });
    const cursor = decodeCursor(first.next!);
    expect(cursor.pit).toBeDefined();
    // Written after the first page, older than its last row: the snapshot does not show it.
    await stores.events.index([makeEvent('pg-late', '2025-03-01T00:00:00.000Z', agency)]);
    await stores.events.refresh();
    const seen = first.events.map((event) => event.event.id);
    let after = first.next;
    while (after !== undefined) {
      const page = await stores.events.search({ agencies: [agency], limit: 4, after });
      expect(page.total).toBe(9);
      seen.push(...page.events.map((event) => event.event.id));
      after = page.next;
    }
    expect(seen).toHaveLength(9);
    expect(new Set(seen).size).toBe(9);
    expect(seen).not.toContain('pg-late');
  });

  it('pages on from the same position when the point in time has expired', async () => {
    const first = await stores.events.search({ agencies: [agency], limit: 5 });
    const { pit } = decodeCursor(first.next!);
    await stores.client.closePointInTime({ id: pit! });
    const second = await stores.events.search({ agencies: [agency], limit: 5, after: first.next });
    const ids = [...first.events, ...second.events].map((event) => event.event.id);
    expect(new Set(ids).size).toBe(10);
    expect(second.total).toBe(10);
  });
});

describe('elasticsearch incidents index', () => {
  const prefix = uniquePrefix('incsort');
  const stores = createElasticsearchStores({ url: ELASTICSEARCH_URL, indexPrefix: prefix });
  afterAll(async () => {
    await deleteIndices(prefix);
    await stores.close();
  });

  it('is created sorted as the triage list reads it by default (last seen, then id, newest first)', async () => {
    await stores.incidents.init();
    const settings = await stores.client.indices.getSettings({ index: `${prefix}-incidents` });
    expect(Object.values(settings)[0]?.settings?.index?.sort).toEqual({
      field: ['lastSeen', 'id'],
      order: ['desc', 'desc'],
    });
  });
});
