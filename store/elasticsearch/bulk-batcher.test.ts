import { describe, expect, it } from 'vitest';
import { BulkBatcher } from './bulk-batcher.js';
import type { BulkItem, BulkOutcome } from './bulk-writer.js';

const item = (id: string, size = 10): BulkItem => ({
  action: 'create',
  index: 'i',
  id,
  document: 'x'.repeat(size),
});

/** A sender that records the requests it got and answers 201 for each item (the batcher's own logic under test). */
function recordingSender(delayMs = 0) {
  const requests: string[][] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const send = async (items: BulkItem[]): Promise<BulkOutcome[]> => {
    requests.push(items.map((entry) => entry.id));
    maxInFlight = Math.max(maxInFlight, ++inFlight);
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    inFlight--;
    return items.map((entry) => ({ status: entry.id.startsWith('dup') ? 409 : 201 }));
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
    expect(sender.requests.flat().sort()).toEqual(items.map((entry) => entry.id).sort());
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
