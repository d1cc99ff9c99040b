import { connect, type Socket } from 'node:net';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AgencyDirectory } from '../../core/agencies.js';
import { type ListenerConfig, loadConfig } from '../../core/config.js';
import { createLogger } from '../../core/logger.js';
import { IngestAccounting, ingestCounters } from '../accounting.js';
import { type IngestHandle, startIngest } from '../service.js';
import { CollectingQueue, until } from '../test-support/collecting-queue.js';

const logger = createLogger({ level: 'silent' });
const agencies = new AgencyDirectory([]);
let ingest: IngestHandle | undefined;
afterEach(async () => {
  await ingest?.close();
  ingest = undefined;
});

async function start(listener: Partial<ListenerConfig>, maxMessageBytes = 65536) {
  const { config } = loadConfig({ env: {} });
  config.ingest.listeners = [{ id: 'tcp-test', transport: 'tcp', host: '127.0.0.1', port: 0, ...listener }];
  config.ingest.batch_max_wait = '10ms';
  config.ingest.max_message_bytes = maxMessageBytes;
  const queue = new CollectingQueue();
  const accounting = new IngestAccounting(ingestCounters(new Registry()));
  ingest = await startIngest({ config, queue, logger, agencies, accounting });
  return { queue, accounting, port: ingest.addresses[0]!.port };
}

async function open(port: number): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  await new Promise((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return socket;
}

const octet = (message: string) => `${Buffer.byteLength(message)} ${message}`;
const closed = (socket: Socket) => new Promise<void>((resolve) => socket.once('close', () => resolve()));
async function total(
  counter: { get(): Promise<{ values: { value: number; labels: object }[] }> },
  labels = {},
) {
  const { values } = await counter.get();
  return values
    .filter((value) =>
      Object.entries(labels).every(([k, v]) => (value.labels as Record<string, unknown>)[k] === v),
    )
    .reduce((sum, value) => sum + value.value, 0);
}

describe('TCP listener', () => {
  it('reads octet-counted and LF frames on one connection and flags truncation', async () => {
    const { queue, accounting, port } = await start({}, 256);
    const socket = await open(port);
    const long = `<13>${'x'.repeat(400)}`;
    socket.write(
      `${octet('<13>octet counted one')}<13>lf framed\r\n${Buffer.byteLength(long)} ${long}<13>after\u0000`,
    );
    await until(() => queue.records.length === 4);
    expect(queue.records.map((record) => [record.text.slice(0, 30), record.flags])).toEqual([
      ['<13>octet counted one', undefined],
      ['<13>lf framed', undefined],
      [long.slice(0, 30), ['truncated']],
      ['<13>after', undefined],
    ]);
    expect(queue.records[2]!.text).toHaveLength(256);
    expect(await total(accounting.counters.truncated)).toBe(1);
    socket.destroy();
  });

  it('closes a connection that sends binary garbage, with a counter', async () => {
    const { queue, accounting, port } = await start({});
    const socket = await open(port);
    const gone = closed(socket);
    socket.write('<13>fine\n');
    socket.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00]));
    await gone;
    await until(() => queue.records.length === 1);
    expect(queue.records[0]!.text).toBe('<13>fine');
    expect(await total(accounting.counters.rejected, { reason: 'garbage' })).toBe(1);
    expect(await total(accounting.counters.connectionsClosed, { reason: 'garbage' })).toBe(1);
  });

  it('refuses connections beyond max_connections and counts them', async () => {
    const { queue, accounting, port } = await start({ max_connections: 2 });
    const first = await open(port);
    const second = await open(port);
    first.write('<13>one\n');
    second.write('<13>two\n');
    await until(() => queue.records.length === 2);
    const third = connect(port, '127.0.0.1');
    third.on('error', () => {});
    await closed(third);
    await vi.waitFor(async () =>
      expect(await total(accounting.counters.rejected, { reason: 'max_connections' })).toBe(1),
    );
    first.destroy();
    second.destroy();
  });

  it('closes a silent connection after the idle timeout', async () => {
    const { accounting, port } = await start({ idle_timeout: '150ms' });
    const socket = await open(port);
    const started = Date.now();
    await closed(socket);
    expect(Date.now() - started).toBeGreaterThanOrEqual(100);
    expect(await total(accounting.counters.connectionsClosed, { reason: 'idle_timeout' })).toBe(1);
  });

  it('listens on IPv6', async () => {
    const { queue } = await start({ host: '::1' });
    const socket = connect(ingest!.addresses[0]!.port, '::1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.end('<13>over v6\n');
    await until(() => queue.records.length === 1);
    expect(queue.records[0]!.peer).toMatch(/^\[::1\]:\d+$/);
  });
});
