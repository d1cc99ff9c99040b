/** The `syslog-client` npm package (UDP and TCP, RFC 3164 and RFC 5424) as a real sender. */
import { createRequire } from 'node:module';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { AgencyDirectory } from '../core/agencies.js';
import { loadConfig } from '../core/config.js';
import { createLogger } from '../core/logger.js';
import { IngestAccounting, ingestCounters } from './accounting.js';
import { createNormaliser } from './normalise.js';
import { type IngestHandle, startIngest } from './service.js';
import { CollectingQueue, until } from './test-support/collecting-queue.js';

interface SyslogClient {
  log(message: string, options: Record<string, unknown>, callback: (error?: Error) => void): void;
  close(): void;
}
const syslog = createRequire(import.meta.url)('syslog-client') as {
  createClient(host: string, options: Record<string, unknown>): SyslogClient;
  Transport: { Udp: number; Tcp: number };
  Facility: { Auth: number };
};

// syslog-client writes RFC 3164 times in this process's local zone: the agency is configured with it.
const LOCAL_ZONE = Intl.DateTimeFormat().resolvedOptions().timeZone;
const agencies = new AgencyDirectory([
  {
    id: 'so-tttt',
    name_vi: 'STTTT',
    name_en: 'DIC',
    kind: 'department',
    cidrs: ['127.0.0.0/8'],
    timezone: LOCAL_ZONE,
  },
]);

let ingest: IngestHandle | undefined;
afterEach(async () => {
  await ingest?.close();
  ingest = undefined;
});

describe('syslog-client package', () => {
  it('sends RFC 3164 and RFC 5424 over UDP and TCP; every message arrives and normalises', async () => {
    const { config } = loadConfig({ env: {} });
    config.ingest.listeners = [
      { id: 'sc-udp', transport: 'udp', host: '127.0.0.1', port: 0 },
      { id: 'sc-tcp', transport: 'tcp', host: '127.0.0.1', port: 0 },
    ];
    config.ingest.batch_max_wait = '10ms';
    const queue = new CollectingQueue();
    ingest = await startIngest({
      config,
      queue,
      logger: createLogger({ level: 'silent' }),
      agencies,
      accounting: new IngestAccounting(ingestCounters(new Registry())),
    });
    const port = (transport: string) => ingest!.addresses.find((a) => a.transport === transport)!.port;
    let sent = 0;
    for (const transport of ['udp', 'tcp'] as const) {
      for (const rfc3164 of [true, false]) {
        const client = syslog.createClient('127.0.0.1', {
          port: port(transport),
          transport: transport === 'udp' ? syslog.Transport.Udp : syslog.Transport.Tcp,
          rfc3164,
          appName: 'sshd',
          syslogHostname: 'bastion',
          facility: syslog.Facility.Auth,
        });
        for (let i = 0; i < 5; i++) {
          // RFC 3164 has no APP-NAME field: the tag is written in the message, as daemons do.
          const body = `Failed password for root from 198.51.100.${i + 1} port ${50000 + i} ssh2`;
          await new Promise<void>((resolve, reject) =>
            client.log(rfc3164 ? `sshd[42]: ${body}` : body, {}, (error) =>
              error ? reject(error) : resolve(),
            ),
          );
          sent++;
        }
        client.close();
      }
    }
    await until(() => queue.records.length === sent, 5000, 'every syslog-client message');
    const events = createNormaliser({ agencies, defaultTimezone: 'Asia/Ho_Chi_Minh' })(queue.records);
    for (const event of events) {
      expect(event.event).toMatchObject({ action: 'ssh_login', outcome: 'failure' });
      expect(event).toMatchObject({
        host: { hostname: 'bastion' },
        user: { name: 'root' },
        agency: { id: 'so-tttt' },
      });
      expect(event.tags ?? []).not.toContain('_clock_skew');
    }
    expect(
      new Set(events.map((event) => (event.log as { syslog: { version?: string } }).syslog.version)),
    ).toEqual(new Set([undefined, '1']));
  });
});
