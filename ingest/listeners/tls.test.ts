import { readFileSync } from 'node:fs';
import { connect, type TLSSocket } from 'node:tls';
import { Registry } from 'prom-client';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { AgencyDirectory } from '../../core/agencies.js';
import { type ListenerConfig, loadConfig } from '../../core/config.js';
import { createLogger } from '../../core/logger.js';
import { IngestAccounting, ingestCounters } from '../accounting.js';
import { type IngestHandle, startIngest } from '../service.js';
import { makeTestPki, type TestPki } from '../test-support/certificates.js';
import { CollectingQueue, until } from '../test-support/collecting-queue.js';

const logger = createLogger({ level: 'silent' });
const CLIENT_CN = 'fw01.so-tttt.haugiang.gov.vn';
const agencies = new AgencyDirectory([
  {
    id: 'so-tttt',
    name_vi: 'Sở Thông tin và Truyền thông',
    name_en: 'Department of Information and Communications',
    kind: 'department',
    cidrs: ['10.93.2.0/24'],
    tls_subjects: [`CN=${CLIENT_CN}`],
  },
]);

let pki: TestPki;
beforeAll(() => {
  pki = makeTestPki(CLIENT_CN);
});

let ingest: IngestHandle | undefined;
afterEach(async () => {
  await ingest?.close();
  ingest = undefined;
});

async function start(tls: Partial<NonNullable<ListenerConfig['tls']>>) {
  const { config } = loadConfig({ env: {} });
  config.ingest.listeners = [
    {
      id: 'syslog-tls',
      transport: 'tls',
      host: '127.0.0.1',
      port: 0,
      tls: { cert: pki.serverCert, key: pki.serverKey, ...tls },
    },
  ];
  config.ingest.batch_max_wait = '10ms';
  const queue = new CollectingQueue();
  const accounting = new IngestAccounting(ingestCounters(new Registry()));
  ingest = await startIngest({ config, queue, logger, agencies, accounting });
  return { queue, accounting, port: ingest.addresses[0]!.port };
}

function tlsConnect(port: number, withClientCert: boolean): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: '127.0.0.1',
      port,
      ca: readFileSync(pki.caCert),
      ...(withClientCert ? { cert: readFileSync(pki.clientCert), key: readFileSync(pki.clientKey) } : {}),
    });
    socket.once('secureConnect', () => resolve(socket));
    socket.once('error', reject);
  });
}

const octet = (message: string) => `${Buffer.byteLength(message)} ${message}`;

describe('TLS listener (RFC 5425)', () => {
  it('receives octet-counted syslog over TLS', async () => {
    const { queue, port } = await start({});
    expect(ingest!.addresses[0]!.transport).toBe('tls');
    const socket = await tlsConnect(port, false);
    socket.end(octet('<13>1 2024-01-01T00:00:00Z h app - - - over tls') + octet('<13>second'));
    await until(() => queue.records.length === 2);
    expect(queue.records.map((record) => [record.transport, record.text, record.agency])).toEqual([
      ['tls', '<13>1 2024-01-01T00:00:00Z h app - - - over tls', undefined],
      ['tls', '<13>second', undefined],
    ]);
  });

  it('attributes a verified client certificate to the agency listing its subject', async () => {
    const { queue, port } = await start({ ca: pki.caCert, require_client_cert: true });
    const socket = await tlsConnect(port, true);
    socket.end(octet('<13>from the firewall'));
    await until(() => queue.records.length === 1);
    expect(queue.records[0]!.agency).toBe('so-tttt');
  });

  it('refuses a client without certificate when one is required, and counts it', async () => {
    const { queue, accounting, port } = await start({ ca: pki.caCert, require_client_cert: true });
    // TLS 1.3 reports the refusal after the handshake completes on the client side: write, then expect a reset.
    const outcome = await tlsConnect(port, false).then(
      (socket) =>
        new Promise<string>((resolve) => {
          socket.on('error', () => resolve('refused'));
          socket.on('close', () => resolve('refused'));
          socket.write(octet('<13>should not arrive'));
        }),
      () => 'refused',
    );
    expect(outcome).toBe('refused');
    await vi.waitFor(async () => {
      const { values } = await accounting.counters.rejected.get();
      expect(values.find((value) => value.labels.reason === 'tls_handshake')?.value).toBe(1);
    });
    expect(queue.records).toHaveLength(0);
  });

  it('fails to start with a clear error when a certificate file is missing', async () => {
    await expect(start({ cert: '/nonexistent/cert.pem' })).rejects.toThrow(
      /syslog-tls: cannot read tls.cert \/nonexistent/,
    );
  });
});
