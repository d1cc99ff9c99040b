/**
 * Real syslog daemons as senders: rsyslog forwarding a file over TCP with octet-counted framing, and
 * syslog-ng sending over TLS with a client certificate. Both are started with a config in a temp dir.
 * They come from `bash tools/syslog-clients.sh` (CI runs it).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { AgencyDirectory } from '../core/agencies.js';
import { loadConfig } from '../core/config.js';
import { createLogger } from '../core/logger.js';
import { IngestAccounting, ingestCounters } from './accounting.js';
import { createNormaliser } from './normalise.js';
import { type IngestHandle, startIngest } from './service.js';
import { makeTestPki } from './test-support/certificates.js';
import { CollectingQueue, until } from './test-support/collecting-queue.js';

const RSYSLOG_ROOT = resolve('.dev/rsyslog');
const RSYSLOGD = join(RSYSLOG_ROOT, 'usr/sbin/rsyslogd');
const SYSLOG_NG = '/usr/sbin/syslog-ng';
const logger = createLogger({ level: 'silent' });
const CLIENT_CN = 'syslog-ng.so-tttt.haugiang.gov.vn';
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

const SSH_LINES = Array.from(
  { length: 20 },
  (_, i) => `Failed password for invalid user user${i} from 198.51.100.${i + 1} port ${40000 + i} ssh2`,
);

let ingest: IngestHandle | undefined;
let daemon: ChildProcess | undefined;
let workDir: string | undefined;
afterEach(async () => {
  if (daemon && daemon.exitCode === null) {
    const exited = new Promise((done) => daemon!.once('exit', done));
    daemon.kill('SIGTERM');
    await exited;
  }
  daemon = undefined;
  await ingest?.close();
  ingest = undefined;
  if (workDir) rmSync(workDir, { recursive: true, force: true });
  workDir = undefined;
});

function requireBinary(path: string): void {
  if (!existsSync(path)) throw new Error(`${path} is missing: run \`bash tools/syslog-clients.sh\` first`);
}

/** Waits for the records, failing at once (with the daemon's stderr) if the daemon died. */
async function recordsFrom(queue: CollectingQueue, count: number, what: string): Promise<void> {
  await until(
    () => {
      if (daemon?.exitCode !== null && daemon?.exitCode !== undefined)
        throw new Error(`${what} exited early`);
      return queue.records.length >= count;
    },
    15_000,
    what,
  );
}

function startDaemon(command: string, args: string[]): ChildProcess {
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk) => {
    stderr += chunk;
  });
  child.once('exit', (code) => {
    if (code !== 0 && code !== null) console.error(`${command} exited with ${code}: ${stderr}`);
  });
  return child;
}

async function startTestIngest(listener: Record<string, unknown>) {
  const { config } = loadConfig({ env: {} });
  config.ingest.listeners = [{ id: 'under-test', host: '127.0.0.1', port: 0, ...listener } as never];
  config.ingest.batch_max_wait = '20ms';
  const queue = new CollectingQueue();
  ingest = await startIngest({
    config,
    queue,
    logger,
    agencies,
    accounting: new IngestAccounting(ingestCounters(new Registry())),
  });
  return { queue, port: ingest.addresses[0]!.port };
}

function expectSshEvents(queue: CollectingQueue) {
  const events = createNormaliser({ agencies, defaultTimezone: 'Asia/Ho_Chi_Minh' })(queue.records);
  expect(events.map((event) => (event.user as { name: string }).name).sort()).toEqual(
    SSH_LINES.map((_, i) => `user${i}`).sort(),
  );
  for (const event of events) {
    expect(event.event.action).toBe('ssh_login');
    expect(event.tags ?? []).not.toContain('_parse_failure');
    expect((event.process as { name: string }).name).toBe('sshd');
  }
  return events;
}

describe('real syslog clients', () => {
  it('rsyslog forwards a file over TCP with octet-counted framing', async () => {
    requireBinary(RSYSLOGD);
    const { queue, port } = await startTestIngest({ transport: 'tcp' });
    workDir = mkdtempSync(join(tmpdir(), 'siem-rsyslog-'));
    const input = join(workDir, 'auth.log');
    writeFileSync(input, `${SSH_LINES.join('\n')}\n`);
    const conf = join(workDir, 'rsyslog.conf');
    writeFileSync(
      conf,
      `global(workDirectory="${workDir}")
module(load="imfile" mode="polling" PollingInterval="1")
input(type="imfile" File="${input}" Tag="sshd" Facility="auth" Severity="info" freshStartTail="off")
action(type="omfwd" target="127.0.0.1" port="${port}" protocol="tcp" TCP_Framing="octet-counted"
       template="RSYSLOG_SyslogProtocol23Format")
`,
    );
    daemon = startDaemon(RSYSLOGD, [
      '-n',
      '-f',
      conf,
      '-i',
      join(workDir, 'rsyslogd.pid'),
      '-M',
      join(RSYSLOG_ROOT, 'usr/lib/x86_64-linux-gnu/rsyslog'),
    ]);
    await recordsFrom(queue, SSH_LINES.length, 'rsyslog');
    expect(queue.records).toHaveLength(SSH_LINES.length);
    // RSYSLOG_SyslogProtocol23Format is RFC 5424: the records must be octet-counted frames, not LF lines.
    for (const record of queue.records) expect(record.text).toMatch(/^<38>1 \d{4}-/);
    const events = expectSshEvents(queue);
    expect((events[0]!.log as { syslog: { version: string } }).syslog.version).toBe('1');
  });

  it('syslog-ng sends over TLS with a client certificate that names the agency', async () => {
    requireBinary(SYSLOG_NG);
    const pki = makeTestPki(CLIENT_CN);
    const { queue, port } = await startTestIngest({
      transport: 'tls',
      tls: { cert: pki.serverCert, key: pki.serverKey, ca: pki.caCert, require_client_cert: true },
    });
    workDir = mkdtempSync(join(tmpdir(), 'siem-syslog-ng-'));
    const input = join(workDir, 'auth.log');
    writeFileSync(input, `${SSH_LINES.join('\n')}\n`);
    const conf = join(workDir, 'syslog-ng.conf');
    writeFileSync(
      conf,
      `@version: 3.38
options { keep-hostname(yes); };
source s_file { file("${input}" follow-freq(0.2) flags(no-parse) program-override("sshd") default-facility(auth) default-priority(info)); };
destination d_siem {
  syslog("127.0.0.1" port(${port}) transport("tls")
    tls(ca-file("${pki.caCert}") cert-file("${pki.clientCert}") key-file("${pki.clientKey}") peer-verify(required-trusted)));
};
log { source(s_file); destination(d_siem); };
`,
    );
    daemon = startDaemon(SYSLOG_NG, [
      '-F',
      '--no-caps',
      '-f',
      conf,
      '-R',
      join(workDir, 'persist'),
      '-p',
      join(workDir, 'pid'),
      '-c',
      join(workDir, 'ctl'),
    ]);
    await recordsFrom(queue, SSH_LINES.length, 'syslog-ng');
    expect(queue.records).toHaveLength(SSH_LINES.length);
    for (const record of queue.records) {
      expect(record.transport).toBe('tls');
      expect(record.agency).toBe('so-tttt');
    }
    const events = expectSshEvents(queue);
    expect(events.every((event) => event.agency.id === 'so-tttt')).toBe(true);
    rmSync(pki.dir, { recursive: true, force: true });
  });
});
