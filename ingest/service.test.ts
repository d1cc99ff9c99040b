import { execFile } from 'node:child_process';
import { connect } from 'node:net';
import { promisify } from 'node:util';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { AgencyDirectory } from '../core/agencies.js';
import { loadConfig } from '../core/config.js';
import { createLogger } from '../core/logger.js';
import { IngestAccounting, ingestCounters } from './accounting.js';
import { createNormaliser } from './normalise.js';
import { type IngestHandle, startIngest } from './service.js';
import { CollectingQueue, until } from './test-support/collecting-queue.js';

const run = promisify(execFile);
const logger = createLogger({ level: 'silent' });
const agencies = new AgencyDirectory([
  {
    id: 'so-tttt',
    name_vi: 'Sở Thông tin và Truyền thông',
    name_en: 'Department of Information and Communications',
    kind: 'department',
    cidrs: ['127.0.0.0/8'],
  },
]);

function configWith(overrides: Record<string, unknown> = {}) {
  const { config } = loadConfig({ env: {} });
  config.ingest.listeners = [
    { id: 'syslog-udp', transport: 'udp', host: '127.0.0.1', port: 0 },
    { id: 'syslog-tcp', transport: 'tcp', host: '127.0.0.1', port: 0 },
  ];
  config.ingest.batch_max_wait = '20ms';
  Object.assign(config.ingest, overrides);
  return config;
}

let ingest: IngestHandle | undefined;
afterEach(async () => {
  await ingest?.close();
  ingest = undefined;
});

function portOf(handle: IngestHandle, transport: string): number {
  return handle.addresses.find((address) => address.transport === transport)!.port;
}

describe('startIngest with the real `logger` client', () => {
  it('receives RFC 3164 and RFC 5424 over UDP and TCP, and the sshd lines normalise to ECS', async () => {
    const queue = new CollectingQueue();
    const accounting = new IngestAccounting(ingestCounters(new Registry()));
    ingest = await startIngest({ config: configWith(), queue, logger, agencies, accounting });
    expect(portOf(ingest, 'udp')).toBeGreaterThan(0);
    const sends: [string, string, string][] = [
      ['-d', '--rfc3164', 'udp'],
      ['-d', '--rfc5424', 'udp'],
      ['-T', '--rfc3164', 'tcp'],
      ['-T', '--rfc5424', 'tcp'],
    ];
    for (const [mode, format, transport] of sends) {
      // RFC 3164 carries local time without a zone: the sender's clock is in the zone the config assumes.
      const env = { ...process.env, TZ: 'Asia/Ho_Chi_Minh' };
      await run(
        'logger',
        [
          '-n',
          '127.0.0.1',
          '-P',
          String(portOf(ingest, transport)),
          mode,
          format,
          '-t',
          'sshd',
          '-p',
          'auth.info',
          `Failed password for invalid user admin from 203.0.113.5 port 4242${transport === 'udp' ? '1' : '2'} ssh2`,
        ],
        { env },
      );
    }
    await until(() => queue.records.length === 4);

    const records = queue.records;
    expect(new Set(records.map((record) => record.seq)).size).toBe(4);
    for (const record of records) {
      expect(record.agency).toBe('so-tttt');
      expect(record.peer).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(Math.abs(record.receivedAt - Date.now())).toBeLessThan(10_000);
    }
    expect(records.map((record) => record.listener).sort()).toEqual([
      'syslog-tcp',
      'syslog-tcp',
      'syslog-udp',
      'syslog-udp',
    ]);

    const events = createNormaliser({ agencies, defaultTimezone: 'Asia/Ho_Chi_Minh' })(records);
    for (const event of events) {
      expect(event.tags ?? []).not.toContain('_parse_failure');
      expect(event.event).toMatchObject({
        action: 'ssh_login',
        outcome: 'failure',
        category: ['authentication'],
      });
      expect(event).toMatchObject({
        source: { ip: '203.0.113.5' },
        user: { name: 'admin' },
        process: { name: 'sshd' },
        agency: { id: 'so-tttt' },
        log: {
          syslog: { facility: { code: 4, name: 'auth' }, severity: { code: 6, name: 'informational' } },
        },
      });
      // `logger` stamps the current time: whatever the format, it must come out close to now.
      expect(Math.abs(Date.parse(event['@timestamp']) - Date.now())).toBeLessThan(60_000);
    }
    expect(
      events.filter((event) => (event.log as { syslog: { version?: string } }).syslog.version === '1'),
    ).toHaveLength(2);

    const received = await accounting.counters.received.get();
    expect(received.values.reduce((sum, value) => sum + value.value, 0)).toBe(4);
    const queued = await accounting.counters.queued.get();
    expect(queued.values.reduce((sum, value) => sum + value.value, 0)).toBe(4);
  });

  it('batches by count and by time', async () => {
    const queue = new CollectingQueue();
    ingest = await startIngest({
      config: configWith({ batch_max_records: 10, batch_max_wait: '50ms' }),
      queue,
      logger,
      agencies,
      accounting: new IngestAccounting(ingestCounters(new Registry())),
    });
    const socket = connect(portOf(ingest, 'tcp'), '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(Array.from({ length: 25 }, (_, i) => `<13>Oct 11 22:14:15 host app: line ${i}\n`).join(''));
    await until(() => queue.records.length === 25);
    expect(queue.batches.map((batch) => batch.records.length)).toEqual([10, 10, 5]);
    expect(new Set(queue.batches.map((batch) => batch.id)).size).toBe(3);
    expect(queue.records.map((record) => record.text)).toEqual(
      Array.from({ length: 25 }, (_, i) => `<13>Oct 11 22:14:15 host app: line ${i}`),
    );
    socket.destroy();
  });

  it('pauses TCP while the queue is saturated and loses nothing; UDP drops are counted', async () => {
    const queue = new CollectingQueue();
    const accounting = new IngestAccounting(ingestCounters(new Registry()));
    ingest = await startIngest({
      config: configWith({ batch_max_records: 5 }),
      queue,
      logger,
      agencies,
      accounting,
    });
    queue.full = true;
    const socket = connect(portOf(ingest, 'tcp'), '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    // Four writes with pauses between them: the first chunk is read (and its lines kept), then the socket
    // stays paused, so the rest waits in the kernel rather than in our memory.
    for (let chunk = 0; chunk < 4; chunk++) {
      socket.write(
        Array.from({ length: 50 }, (_, i) => `<13>Oct 11 22:14:15 host app: tcp ${chunk * 50 + i}\n`).join(
          '',
        ),
      );
      await new Promise((resolve) => setTimeout(resolve, 60));
    }
    await run('logger', [
      '-n',
      '127.0.0.1',
      '-P',
      String(portOf(ingest, 'udp')),
      '-d',
      'udp while saturated',
    ]);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(queue.records.length).toBeLessThanOrEqual(50);
    const dropped = await accounting.counters.dropped.get();
    expect(dropped.values).toEqual([
      { value: 1, labels: { listener: 'syslog-udp', agency: 'so-tttt', reason: 'backpressure' } },
    ]);
    queue.full = false;
    await until(() => queue.records.length === 200);
    expect(queue.records.map((record) => record.text)).toEqual(
      Array.from({ length: 200 }, (_, i) => `<13>Oct 11 22:14:15 host app: tcp ${i}`),
    );
    socket.destroy();
  });

  it('reports the real port for port 0 and closes cleanly, flushing the pending batch', async () => {
    const queue = new CollectingQueue();
    ingest = await startIngest({
      config: configWith({ batch_max_wait: '10s' }),
      queue,
      logger,
      agencies,
      accounting: new IngestAccounting(ingestCounters(new Registry())),
    });
    await run('logger', ['-n', '127.0.0.1', '-P', String(portOf(ingest, 'udp')), '-d', 'pending at close']);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(queue.records).toHaveLength(0);
    await ingest.close();
    ingest = undefined;
    expect(queue.records).toHaveLength(1);
  });
});
