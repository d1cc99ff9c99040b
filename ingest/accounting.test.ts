/**
 * Nothing lost silently: a burst over TCP, UDP and HTTP while the queue flips between saturated and
 * free. For every transport, what was sent = what was queued + what the counters say was refused or
 * dropped (and for UDP, what the kernel dropped, read from /proc/net/udp). TCP refuses nothing: it waits.
 */
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import Fastify from 'fastify';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { AgencyDirectory } from '../core/agencies.js';
import { loadConfig } from '../core/config.js';
import { createLogger } from '../core/logger.js';
import { IngestAccounting, ingestCounters } from './accounting.js';
import { ingestHttpRoutes } from './http/routes.js';
import { readUdpDrops } from './listeners/udp-kernel-drops.js';
import { type IngestHandle, startIngest } from './service.js';
import { CollectingQueue, until } from './test-support/collecting-queue.js';

const logger = createLogger({ level: 'silent' });
const agencies = new AgencyDirectory([
  {
    id: 'so-tttt',
    name_vi: 'STTTT',
    name_en: 'DIC',
    kind: 'department',
    cidrs: ['127.0.0.0/8'],
    ingest_tokens: ['burst-token'],
  },
]);

type CounterLike = { get(): Promise<{ values: { value: number; labels: Record<string, unknown> }[] }> };
async function sum(counter: CounterLike, labels: Record<string, string>): Promise<number> {
  const { values } = await counter.get();
  return values
    .filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))
    .reduce((n, v) => n + v.value, 0);
}

/** Flips the queue between saturated and free every few milliseconds until stopped. */
function flipper(queue: CollectingQueue): () => void {
  const timer = setInterval(() => {
    queue.full = !queue.full;
  }, 7);
  return () => {
    clearInterval(timer);
    queue.full = false;
  };
}

let ingest: IngestHandle | undefined;
afterEach(async () => {
  await ingest?.close();
  ingest = undefined;
});

describe('accounting under a burst', () => {
  it('TCP and UDP: sent = queued + dropped (+ kernel drops), and TCP drops nothing', async () => {
    const { config } = loadConfig({ env: {} });
    config.ingest.listeners = [
      { id: 'burst-tcp', transport: 'tcp', host: '127.0.0.1', port: 0 },
      { id: 'burst-udp', transport: 'udp', host: '127.0.0.1', port: 0 },
    ];
    config.ingest.batch_max_wait = '5ms';
    config.ingest.batch_max_records = 200;
    const queue = new CollectingQueue();
    const accounting = new IngestAccounting(ingestCounters(new Registry()));
    ingest = await startIngest({ config, queue, logger, agencies, accounting });
    const tcpPort = ingest.addresses.find((a) => a.transport === 'tcp')!.port;
    const udpPort = ingest.addresses.find((a) => a.transport === 'udp')!.port;
    const kernelDropsBefore = readUdpDrops().get(udpPort) ?? 0;
    const stop = flipper(queue);

    const CONNECTIONS = 4;
    const LINES = 2500;
    const tcpSends = Array.from(
      { length: CONNECTIONS },
      (_, c) =>
        new Promise<void>((resolve, reject) => {
          const socket = connect(tcpPort, '127.0.0.1', () => {
            const lines = Array.from(
              { length: LINES },
              (_, i) => `<13>Jun 15 20:00:00 h app: c${c} line ${i}\n`,
            ).join('');
            socket.end(lines, () => resolve());
          });
          socket.on('error', reject);
        }),
    );
    const udp = createSocket('udp4');
    const DATAGRAMS = 2000;
    for (let i = 0; i < DATAGRAMS; i++) {
      await new Promise<void>((resolve) =>
        udp.send(`<13>Jun 15 20:00:00 h app: udp ${i}`, udpPort, '127.0.0.1', () => resolve()),
      );
    }
    udp.close();
    await Promise.all(tcpSends);
    await until(
      () => queue.records.filter((r) => r.listener === 'burst-tcp').length === CONNECTIONS * LINES,
      20_000,
      'every TCP line',
    );
    // Every datagram is either read (received or dropped under backpressure) or dropped by the kernel.
    const udpSeen = async () =>
      (await sum(accounting.counters.received, { listener: 'burst-udp' })) +
      (await sum(accounting.counters.dropped, { listener: 'burst-udp' })) +
      Math.max(0, (readUdpDrops().get(udpPort) ?? kernelDropsBefore) - kernelDropsBefore);
    const deadline = Date.now() + 10_000;
    while ((await udpSeen()) < DATAGRAMS && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 20));
    stop();
    await ingest.close();
    ingest = undefined;

    const tcpQueued = queue.records.filter((r) => r.listener === 'burst-tcp').length;
    expect(tcpQueued).toBe(CONNECTIONS * LINES);
    expect(await sum(accounting.counters.received, { listener: 'burst-tcp' })).toBe(CONNECTIONS * LINES);
    expect(await sum(accounting.counters.queued, { listener: 'burst-tcp' })).toBe(CONNECTIONS * LINES);
    expect(await sum(accounting.counters.dropped, { listener: 'burst-tcp' })).toBe(0);

    const udpQueued = queue.records.filter((r) => r.listener === 'burst-udp').length;
    const udpReceived = await sum(accounting.counters.received, { listener: 'burst-udp' });
    const udpDropped = await sum(accounting.counters.dropped, {
      listener: 'burst-udp',
      reason: 'backpressure',
    });
    const kernelDrops = (readUdpDrops().get(udpPort) ?? kernelDropsBefore) - kernelDropsBefore;
    expect(await sum(accounting.counters.queued, { listener: 'burst-udp' })).toBe(udpQueued);
    expect(udpReceived).toBe(udpQueued);
    expect(udpReceived + udpDropped + Math.max(0, kernelDrops)).toBe(DATAGRAMS);
    // The flipping queue was saturated about half the time: some datagrams must have been dropped and counted.
    expect(udpDropped).toBeGreaterThan(0);
  });

  it('HTTP: received = queued + rejected, and what clients were told was accepted is what got queued', async () => {
    const queue = new CollectingQueue();
    const accounting = new IngestAccounting(ingestCounters(new Registry()));
    const app = Fastify();
    await app.register(ingestHttpRoutes, { queue, agencies, accounting, listenerId: 'burst-http' });
    await app.ready();
    const stop = flipper(queue);
    const REQUESTS = 60;
    const DOCS = 50;
    let acceptedByReplies = 0;
    let refusedByReplies = 0;
    for (let r = 0; r < REQUESTS; r++) {
      const response = await app.inject({
        method: 'POST',
        url: '/ingest/v1/events',
        headers: { authorization: 'Bearer burst-token' },
        payload: Array.from({ length: DOCS }, (_, i) => ({ message: `r${r} d${i}` })),
      });
      if (response.statusCode === 202) acceptedByReplies += response.json().accepted;
      else if (response.statusCode === 429) refusedByReplies += DOCS;
      else throw new Error(`unexpected status ${response.statusCode}`);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    stop();
    await app.close();
    const received = await sum(accounting.counters.received, { listener: 'burst-http' });
    const queued = await sum(accounting.counters.queued, { listener: 'burst-http' });
    const rejected = await sum(accounting.counters.rejected, { listener: 'burst-http' });
    expect(received).toBe(REQUESTS * DOCS);
    expect(received).toBe(queued + rejected);
    expect(queued).toBe(queue.records.length);
    expect(queued).toBe(acceptedByReplies);
    expect(rejected).toBe(refusedByReplies);
  });
});

describe('IngestAccounting', () => {
  it('reports every message received in the scraped text, across reads and accounting instances', async () => {
    const registry = new Registry();
    const first = new IngestAccounting(ingestCounters(registry));
    const second = new IngestAccounting(ingestCounters(registry));
    for (let i = 0; i < 5; i++) first.received('tcp', 'so-tttt', false);
    second.received('tcp', 'so-tttt', true, 3);
    second.received('udp', 'ubnd', false);
    const scraped = await registry.metrics();
    expect(scraped).toContain('siem_ingest_received_total{listener="tcp",agency="so-tttt"} 8');
    expect(scraped).toContain('siem_ingest_received_total{listener="udp",agency="ubnd"} 1');
    expect(scraped).toContain('siem_ingest_truncated_total{listener="tcp",agency="so-tttt"} 1');
    // Counted after a read: added at the next read, not lost and not counted twice.
    first.received('tcp', 'so-tttt', false);
    expect(await registry.metrics()).toContain(
      'siem_ingest_received_total{listener="tcp",agency="so-tttt"} 9',
    );
  });
});
