/**
 * bulkWrite on the real node: a request body made of several pieces (items from different chunks, or
 * not adjacent in one) arrives whole, each item once.
 */
import { Client } from '@elastic/elasticsearch';
import { afterAll, describe, expect, it } from 'vitest';
import { deleteIndices, ELASTICSEARCH_URL, uniquePrefix } from '../../test/support/services.js';
import { bulkLines, bulkWrite } from './bulk-writer.js';

const prefix = uniquePrefix('bulk-writer');
const client = new Client({ node: ELASTICSEARCH_URL });

afterAll(async () => {
  await deleteIndices(prefix);
  await client.close();
});

describe('bulkWrite', () => {
  it('sends items lying in several chunks and out of order as one body, each item once', async () => {
    const index = `${prefix}-docs`;
    // Documents of 150k characters (~180 KB, with room for 450 KB checked before each): a 1 MB chunk holds
    // five, so the eight items lie in two chunks; the order below makes runs of adjacent items and breaks.
    const lines = Array.from({ length: 8 }, (_, i) =>
      bulkLines({
        action: 'create',
        index,
        id: `d${i}`,
        document: { n: i, text: `Đăng nhập ${i} `.repeat(12_000).slice(0, 150_000) },
      }),
    );
    expect(new Set(lines.map((line) => line.buffer)).size).toBe(2);
    expect(lines[1]!.buffer).toBe(lines[0]!.buffer);
    const order = [0, 1, 5, 2, 3, 4, 7, 6];
    const outcomes = await bulkWrite(
      client,
      order.map((i) => lines[i]!),
      { refresh: true },
    );
    expect(outcomes.map((outcome) => outcome.status)).toEqual(order.map(() => 201));
    const stored = await client.search<{ n: number; text: string }>({ index, size: 10, sort: ['n'] });
    expect(stored.hits.hits.map((hit) => hit._source?.n)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(stored.hits.hits[3]?._source?.text).toBe(`Đăng nhập 3 `.repeat(12_000).slice(0, 150_000));
    const again = await bulkWrite(client, lines);
    expect(again.map((outcome) => outcome.status)).toEqual(lines.map(() => 409));
  });
});
