/**
 * Fault tests on the real node: writes meet 429s from the node itself, 503s and dropped connections from
 * a proxy in front of it, and mapping rejections. Whatever happens, once the node is back every event is
 * stored exactly once, and a refused event is in the dead-letter index.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { SecurityEvent } from '../../core/model.js';
import { deleteIndices, ELASTICSEARCH_URL, uniquePrefix } from '../../test/support/services.js';
import { makeEvent } from '../contract.test-suite.js';
import { createElasticsearchStores, type ElasticsearchStores } from './index.js';
import { FaultProxy } from './testing/fault-proxy.js';

const prefix = uniquePrefix('faults');
const fastRetry = { attempts: 30, initialDelayMs: 20, maxDelayMs: 200 };
const opened: { stores: ElasticsearchStores; proxy?: FaultProxy }[] = [];
let runs = 0;

async function open(options: { proxy?: boolean; maxDocs?: number; maxInFlight?: number } = {}) {
  const proxy = options.proxy ? new FaultProxy(ELASTICSEARCH_URL) : undefined;
  await proxy?.start();
  const stores = createElasticsearchStores({
    url: proxy?.url ?? ELASTICSEARCH_URL,
    indexPrefix: `${prefix}-${++runs}`,
    requestTimeoutMs: 5_000,
    retry: fastRetry,
    batcher: {
      maxDocs: options.maxDocs ?? 5_000,
      ...(options.maxInFlight ? { maxInFlight: options.maxInFlight } : {}),
    },
  });
  opened.push({ stores, proxy });
  await stores.events.init();
  return { stores, proxy };
}

function batch(label: string, count: number, day = '2025-03-01'): SecurityEvent[] {
  return Array.from({ length: count }, (_, i) =>
    makeEvent(
      `${label}-${i}`,
      `${day}T10:${String(Math.floor(i / 60) % 60).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}.000Z`,
      'faults',
    ),
  );
}

async function storedCount(stores: ElasticsearchStores): Promise<number> {
  await stores.events.refresh();
  return stores.events.count({});
}

afterEach(async () => {
  for (const { stores, proxy } of opened.splice(0)) {
    await proxy?.stop();
    await stores.close();
  }
});

afterAll(async () => {
  await deleteIndices(prefix);
});

describe('elasticsearch writes under faults', () => {
  it('retries items the node answers 429 until it accepts them', async () => {
    const { stores } = await open();
    await stores.events.index(batch('warm', 1));
    const index = `${prefix}-${runs}-events-2025.03.01`;
    // The node's own flood-stage block: every write to the index is refused with 429 until it is lifted.
    await stores.client.indices.putSettings({
      index,
      settings: { 'index.blocks.read_only_allow_delete': true },
    });
    const writing = stores.events.index([...batch('blocked', 150), ...batch('other-day', 50, '2025-03-02')]);
    await new Promise((resolve) => setTimeout(resolve, 400));
    await stores.client.indices.putSettings({
      index,
      settings: { 'index.blocks.read_only_allow_delete': null },
    });
    expect(await writing).toEqual({ indexed: 200, duplicates: 0, deadLettered: 0 });
    expect(await storedCount(stores)).toBe(201);
  });

  it('waits out 503s and a stopped node mid-batch, then stores everything exactly once', async () => {
    const { stores, proxy } = await open({ proxy: true, maxDocs: 50 });
    const events = batch('outage', 600);
    proxy!.onBulk = (count) => {
      if (count === 3) proxy!.mode = 'unavailable';
      if (count === 6) proxy!.mode = 'down';
      if (count === 10) proxy!.mode = 'pass';
    };
    const result = await stores.events.index(events);
    expect(proxy!.faultsInjected).toBeGreaterThan(0);
    expect(result).toEqual({ indexed: 600, duplicates: 0, deadLettered: 0 });
    expect(await storedCount(stores)).toBe(600);
    expect(await stores.events.index(events)).toEqual({ indexed: 0, duplicates: 600, deadLettered: 0 });
  });

  it('counts writes whose answer was lost as duplicates on retry, never as two events', async () => {
    // One request at a time, so that the requests arrive in a known order whatever the machine's load: the
    // 2nd (the second 100 events) and the 4th (the third 100, after the 3rd retried the second) lose their
    // answers. With two in flight, a retry could overtake the next chunk and lose its answer twice.
    const { stores, proxy } = await open({ proxy: true, maxDocs: 100, maxInFlight: 1 });
    proxy!.onBulk = (count) => {
      proxy!.mode = count === 2 || count === 4 ? 'lose-response' : 'pass';
    };
    const result = await stores.events.index(batch('lost', 400));
    expect(proxy!.faultsInjected).toBe(2);
    expect(result.indexed + result.duplicates).toBe(400);
    expect(result.duplicates).toBe(200);
    expect(await storedCount(stores)).toBe(400);
  });

  it('keeps retrying while the node is unreachable and finishes when it returns', async () => {
    const { stores, proxy } = await open({ proxy: true });
    await proxy!.stop();
    const writing = stores.events.index(batch('refused', 100));
    await new Promise((resolve) => setTimeout(resolve, 500));
    await proxy!.start();
    expect(await writing).toEqual({ indexed: 100, duplicates: 0, deadLettered: 0 });
    expect(await storedCount(stores)).toBe(100);
  });

  it('gives up with an error (the batch stays queued) when the node does not return', async () => {
    const proxy = new FaultProxy(ELASTICSEARCH_URL);
    await proxy.start();
    const stores = createElasticsearchStores({
      url: proxy.url,
      indexPrefix: `${prefix}-${++runs}`,
      retry: { attempts: 3, initialDelayMs: 10, maxDelayMs: 20 },
    });
    opened.push({ stores, proxy });
    await stores.events.init();
    proxy.mode = 'unavailable';
    await expect(stores.events.index(batch('gone', 10))).rejects.toThrow(/bulk write of 10 items failed/);
  });

  it('sends a document the mapping refuses to the dead-letter index with the reason and the original', async () => {
    const { stores } = await open();
    const first = makeEvent('map-1', '2025-03-01T10:00:00Z', 'faults', { vendor: { detail: 'text' } });
    const conflicting = makeEvent('map-2', '2025-03-01T10:00:01Z', 'faults', {
      vendor: { detail: { nested: 1 } },
    });
    expect(await stores.events.index([first])).toEqual({ indexed: 1, duplicates: 0, deadLettered: 0 });
    expect(await stores.events.index([conflicting])).toEqual({ indexed: 0, duplicates: 0, deadLettered: 1 });
    await stores.events.refresh();
    const deadletter = await stores.client.search<{
      reason: string;
      original: string;
      error: { type: string };
    }>({
      index: `${prefix}-${runs}-deadletter`,
    });
    const entry = deadletter.hits.hits[0]?._source;
    expect(deadletter.hits.hits).toHaveLength(1);
    expect(entry?.error.type).toBe('document_parsing_exception');
    expect(entry?.reason).toMatch(/vendor\.detail/);
    expect(JSON.parse(entry!.original)).toEqual(conflicting);
  });
});
