/**
 * The foundation's end-to-end path, in both modes, through the real CLI and real clients:
 * 30 sshd "Failed password" lines from one attacker, sent by util-linux `logger` over UDP (RFC 3164) and TCP
 * (RFC 5424) → every line indexed (counted through the API) → exactly one incident for that IP holding all
 * 30 detections, and one SSH Brute Force correlation incident (3 firings of 10) linking them.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signatureOf } from '../../correlator/notify/webhook.js';
import { deleteIndices, ELASTICSEARCH_URL, REDIS_URL, uniquePrefix } from '../support/services.js';
import { freePort, type SiemProcess, startSiem, waitFor } from '../support/siem-process.js';

const run = promisify(execFile);
const ATTACKER = '203.0.113.77';
const LINES = 30;

/** A real HTTP receiver for the deployment's webhook: every POST, with its headers. */
const webhooks: { path: string; body: string; timestamp: string; signature: string }[] = [];
const WEBHOOK_SECRET = 'e2e-webhook-secret';
const receiver = createServer((request, response) => {
  let body = '';
  request.on('data', (chunk: Buffer) => {
    body += chunk.toString();
  });
  request.on('end', () => {
    webhooks.push({
      path: request.url ?? '',
      body,
      timestamp: String(request.headers['x-siem-timestamp']),
      signature: String(request.headers['x-siem-signature']),
    });
    response.writeHead(204).end();
  });
});
beforeAll(() => new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve)));
afterAll(() => new Promise<void>((resolve) => receiver.close(() => resolve())));

interface Deployment {
  mode: 'embedded' | 'scale';
  processes: SiemProcess[];
  apiUrl: string;
  syslogPort: number;
  adminKey: string;
  cleanup(): Promise<void>;
}

async function deploy(mode: 'embedded' | 'scale'): Promise<Deployment> {
  const dir = mkdtempSync(join(tmpdir(), `siem-e2e-${mode}-`));
  const prefix = uniquePrefix(`e2e-${mode}`);
  const apiPort = await freePort();
  const syslogPort = await freePort();
  const configFile = join(dir, 'siem-lite.yaml');
  writeFileSync(
    configFile,
    [
      `mode: ${mode}`,
      `data_dir: ${join(dir, 'data')}`,
      'log_level: warn',
      `elasticsearch: { url: "${ELASTICSEARCH_URL}", index_prefix: ${prefix} }`,
      `redis: { url: "${REDIS_URL}", prefix: ${prefix} }`,
      `api: { host: 127.0.0.1, port: ${apiPort} }`,
      'ingest:',
      '  batch_max_wait: 50ms',
      // `logger` writes RFC 3164 times in its own zone (TZ=UTC below): read them in that zone, so the UDP and
      // TCP halves fall in one correlation window.
      '  default_timezone: UTC',
      '  listeners:',
      `    - { id: syslog-udp, transport: udp, host: 127.0.0.1, port: ${syslogPort} }`,
      `    - { id: syslog-tcp, transport: tcp, host: 127.0.0.1, port: ${syslogPort} }`,
      'notifications:',
      `  webhooks: [{ url: "http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook/${mode}", secret: ${WEBHOOK_SECRET}, min_severity: high }]`,
    ].join('\n'),
  );
  const processes = [startSiem(['serve', '--config', configFile])];
  if (mode === 'scale') processes.push(startSiem(['worker', '--config', configFile]));
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  const output = () => processes.map((p) => p.output()).join('\n');
  await waitFor(
    async () => ((await fetch(`${apiUrl}/healthz`)).ok ? true : undefined),
    `${mode} API /healthz`,
    60_000,
    output,
  );
  const adminKey = readFileSync(join(dir, 'data', 'admin.key'), 'utf8').trim();
  return {
    mode,
    processes,
    apiUrl,
    syslogPort,
    adminKey,
    async cleanup() {
      await Promise.all(processes.map((p) => p.stop()));
      if (mode === 'scale') {
        await deleteIndices(prefix);
        const redis = new Redis(REDIS_URL);
        const keys = await redis.keys(`${prefix}:*`);
        if (keys.length > 0) await redis.del(...keys);
        redis.disconnect();
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function api<T>(deployment: Deployment, path: string): Promise<T> {
  const response = await fetch(`${deployment.apiUrl}${path}`, {
    headers: { authorization: `Bearer ${deployment.adminKey}` },
  });
  if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

/** Sends sshd lines with the real util-linux `logger`: UDP as RFC 3164, TCP as RFC 5424. */
async function sendFailedPasswords(port: number, count: number, transport: 'udp' | 'tcp'): Promise<void> {
  for (let i = 0; i < count; i++) {
    const message = `Failed password for ${i % 2 ? 'root' : 'invalid user admin'} from ${ATTACKER} port ${40000 + i} ssh2`;
    const protocol = transport === 'udp' ? ['-d', '--rfc3164'] : ['-T', '--rfc5424'];
    await run(
      'logger',
      ['-n', '127.0.0.1', '-P', String(port), ...protocol, '-t', 'sshd', '--id=4242', message],
      { env: { ...process.env, TZ: 'UTC' } },
    );
  }
}

const deployments: Deployment[] = [];
afterAll(async () => {
  await Promise.all(deployments.map((d) => d.cleanup()));
});

describe.each(['embedded', 'scale'] as const)('sshd brute force, end to end (%s mode)', (mode) => {
  it('indexes every line and opens exactly one incident for the attacker, holding all 30 failures', async () => {
    const deployment = await deploy(mode);
    deployments.push(deployment);
    const diagnostics = () => deployment.processes.map((p) => p.output()).join('\n');

    // The API is never anonymous.
    expect((await fetch(`${deployment.apiUrl}/api/incidents`)).status).toBe(401);

    await sendFailedPasswords(deployment.syslogPort, LINES / 2, 'udp');
    await sendFailedPasswords(deployment.syslogPort, LINES / 2, 'tcp');

    const filter = `filter=${encodeURIComponent(`source.ip:${ATTACKER}`)}`;
    const indexed = await waitFor(
      async () => {
        const page = await api<{ total: number }>(deployment, `/api/events?${filter}&limit=1`);
        return page.total >= LINES ? page.total : undefined;
      },
      `${LINES} events for ${ATTACKER}`,
      20_000,
      diagnostics,
    );
    expect(indexed).toBe(LINES);

    const page = await api<{
      events: { event: { action: string; outcome: string }; user: { name: string } }[];
    }>(deployment, `/api/events?${filter}&limit=100`);
    expect(page.events).toHaveLength(LINES);
    for (const event of page.events) {
      expect(event.event.outcome).toBe('failure');
      expect(['root', 'admin']).toContain(event.user.name);
    }

    type IncidentList = {
      incidents: {
        id: string;
        groupBy: Record<string, string>;
        detectionCount: number;
        ruleTitle: string;
        severity: string;
      }[];
    };
    // Every failed password is a detection of the SSH Failed Password rule, which only feeds correlations
    // (a single failure is internet noise, not an incident). SSH Brute Force (10 in 10 minutes) fires three
    // times on the 30: one incident for the address, linking all 30 detections.
    const incidents = await waitFor(
      async () => {
        const list = await api<IncidentList>(deployment, '/api/incidents');
        const mine = list.incidents.filter((incident) => incident.groupBy['source.ip'] === ATTACKER);
        const counts = mine.map(
          (incident) => `${incident.ruleTitle}:${incident.detectionCount}:${incident.severity}`,
        );
        return counts.join(',') === 'SSH Brute Force:3:high' ? mine : undefined;
      },
      'the brute-force incident',
      15_000,
      () => `${diagnostics()}`,
    ).catch(async (error: unknown) => {
      const list = await api<IncidentList>(deployment, '/api/incidents');
      throw new Error(
        `${(error as Error).message}\nincidents: ${JSON.stringify(list.incidents.map((i) => [i.ruleTitle, i.detectionCount, i.severity]))}`,
      );
    });
    expect(incidents).toHaveLength(1);
    // List items leave the evidence and detection ids out: they are in the incident's own answer.
    const { incident: bruteForce } = await api<{
      incident: { evidenceEventIds: string[]; linkedDetectionIds?: string[] };
    }>(deployment, `/api/incidents/${encodeURIComponent(incidents[0]!.id)}`);
    expect(bruteForce.evidenceEventIds).toHaveLength(LINES);
    expect(bruteForce.linkedDetectionIds).toHaveLength(LINES);

    // The configured webhook (high and above) got the brute force incident, signed with its secret.
    const hook = await waitFor(
      async () =>
        webhooks.find((w) => {
          if (w.path !== `/hook/${mode}`) return false;
          const payload = JSON.parse(w.body) as {
            incident: { ruleTitle: string; groupBy: Record<string, string> };
          };
          return (
            payload.incident.ruleTitle === 'SSH Brute Force' &&
            payload.incident.groupBy['source.ip'] === ATTACKER
          );
        }),
      'a signed webhook for the brute force incident',
      15_000,
      diagnostics,
    );
    expect(hook.signature).toBe(signatureOf(WEBHOOK_SECRET, hook.timestamp, hook.body));
    expect(JSON.parse(hook.body).incident.severity).toBe('high');
  }, 90_000);
});
