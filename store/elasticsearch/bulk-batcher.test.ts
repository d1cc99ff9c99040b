import { describe, expect, it } from 'vitest';
import { BulkBatcher } from './bulk-batcher.js';
import { type BulkOutcome, bulkLines } from './bulk-writer.js';

const item = (id: string, size = 10): Buffer =>
  bulkLines({ action: 'create', index: 'i', id, document: 'x'.repeat(size) });

/** The `_id` of an item's lines. */
const idOf = (lines: Buffer): string => JSON.parse(lines.toString().split('\n')[0]!).create._id;

/** A sender that records the requests it got and answers 201 for each item (the batcher's own logic under test). */
function recordingSender(delayMs = 0) {
  const requests: string[][] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const send = async (items: Buffer[]): Promise<BulkOutcome[]> => {
    requests.push(items.map(idOf));
    maxInFlight = Math.max(maxInFlight, ++inFlight);
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    inFlight--;
    return items.map((entry) => ({ status: idOf(entry).startsWith('dup') ? 409 : 201 }));
  };
  return { send, requests, maxInFlight: () => maxInFlight };
}

describe('BulkBatcher', () => {
  it('joins concurrent callers into one request and gives each its own outcomes', async () => {
    const sender = recordingSender();
    const batcher = new BulkBatcher(sender.send, { maxWaitMs: 10 });
    const [a, b] = await Promise.all([
      batcher.submit([item('a1'), item('dup-a2')]),
      batcher.submit([item('b1')]),
    ]);
    expect(sender.requests).toEqual([['a1', 'dup-a2', 'b1']]);
    expect(a.map((outcome) => outcome.status)).toEqual([201, 409]);
    expect(b.map((outcome) => outcome.status)).toEqual([201]);
  });

  it('splits by document count and by bytes, and keeps at most maxInFlight requests running', async () => {
    const sender = recordingSender(5);
    const batcher = new BulkBatcher(sender.send, { maxDocs: 3, maxBytes: 250, maxInFlight: 2, maxWaitMs: 1 });
    const items = Array.from({ length: 10 }, (_, i) => item(`e${i}`, i === 7 ? 300 : 10));
    const outcomes = await batcher.submit(items);
    expect(outcomes).toHaveLength(10);
    expect(sender.requests.flat().sort()).toEqual(items.map(idOf).sort());
    for (const request of sender.requests) expect(request.length).toBeLessThanOrEqual(3);
    expect(sender.requests).toContainEqual(['e7']);
    expect(sender.maxInFlight()).toBe(2);
  });

  it('fails every caller whose items were in a failed request', async () => {
    const batcher = new BulkBatcher(async () => {
      throw new Error('node gone');
    });
    await expect(batcher.submit([item('a')])).rejects.toThrow('node gone');
  });

  it('makes callers wait while too many bytes are queued', async () => {
    const sender = recordingSender(20);
    const batcher = new BulkBatcher(sender.send, {
      maxDocs: 1,
      maxInFlight: 1,
      maxPendingBytes: 100,
      maxWaitMs: 1,
    });
    const first = batcher.submit([item('a', 200)]);
    const second = batcher.submit([item('b', 10)]);
    await Promise.all([first, second]);
    expect(sender.requests).toEqual([['a'], ['b']]);
  });
});

describe('bulkLines', () => {
  it('encodes action and document as UTF-8 NDJSON, ASCII or not, and keeps each item intact across chunks', () => {
    const documents = [
      '{"message":"ascii"}',
      '{"message":"Đăng nhập thất bại"}',
      '{"x":"\ud800 \ud83d\ude00"}',
    ];
    const items = Array.from({ length: 3000 }, (_, i) => ({
      action: 'create' as const,
      index: 'siem-events-2025.03.01',
      id: i % 7 === 0 ? `mã-${i}` : `id-${i}`,
      // Big enough that the items span several shared chunks.
      document: documents[i % 3]!.replace('{', `{"pad":"${'p'.repeat(i % 5 === 0 ? 2000 : 300)}",`),
    }));
    const lines = items.map(bulkLines);
    items.forEach((item, i) => {
      const expected = `{"create":{"_index":"siem-events-2025.03.01","_id":${JSON.stringify(item.id)}}}\n${item.document}\n`;
      expect(lines[i]!.equals(Buffer.from(expected))).toBe(true);
    });
    expect(
      bulkLines({
        action: 'index',
        index: 'i',
        id: 'a',
        document: { b: 1 },
        ifSeqNo: 3,
        ifPrimaryTerm: 1,
      }).toString(),
    ).toBe('{"index":{"_index":"i","_id":"a","if_seq_no":3,"if_primary_term":1}}\n{"b":1}\n');
  });
});
