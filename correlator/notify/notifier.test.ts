/**
 * Notifications against real receivers: an HTTP server checking the HMAC signature (failing once, to see
 * the retry), and a real SMTP server process (smtp-server, STARTTLS with a certificate made by openssl for
 * this run) that refuses unencrypted mail. Throttling: a storm is one message; the next one says how many
 * were held back; two workers sharing Redis still send once.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../core/logger.js';
import type { Incident } from '../../core/model.js';
import type { IncidentChange } from '../../core/ports.js';
import { REDIS_URL, uniquePrefix } from '../../test/support/services.js';
import { RedisDeliveryQueue } from './deliveries.js';
import { EmailSender } from './email.js';
import { Notifier } from './notifier.js';
import { MemoryThrottle, RedisThrottle } from './throttle.js';
import { signatureOf } from './webhook.js';

const logger = createLogger({ level: 'silent' });
const SECRET = 'hook-secret';

function incident(overrides: Partial<Incident> = {}): Incident {
  return {
    id: 'inc-1',
    title: 'SSH Brute Force — source.ip 203.0.113.10',
    severity: 'high',
    status: 'new',
    agency: 'so-tttt',
    assignee: null,
    ruleId: 'rule-bf',
    ruleTitle: 'SSH Brute Force',
    ruleLink: 'https://example.org/rules/bf',
    tactics: ['credential_access'],
    techniques: ['T1110.001'],
    dedupKey: 'so-tttt|rule-bf|source.ip=203.0.113.10',
    groupBy: { 'source.ip': '203.0.113.10' },
    firstSeen: '2026-11-26T02:00:00.000Z',
    lastSeen: '2026-11-26T02:02:00.000Z',
    detectionCount: 3,
    evidenceEventIds: [],
    appliedBatches: [],
    tags: [],
    createdAt: '2026-11-26T02:02:01.000Z',
    updatedAt: '2026-11-26T02:02:01.000Z',
    timeline: [],
    ...overrides,
  };
}

const change = (kind: IncidentChange['kind'], overrides: Partial<Incident> = {}): IncidentChange => ({
  kind,
  incident: incident(overrides),
  actor: 'system',
  at: '2026-11-26T02:02:01.000Z',
});

async function waitUntil(probe: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('webhooks', () => {
  let server: Server;
  let url: string;
  const received: { url: string; body: string; headers: IncomingMessage['headers'] }[] = [];
  let failNext = 0;

  beforeAll(async () => {
    server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        received.push({
          url: request.url ?? '',
          body: Buffer.concat(chunks).toString(),
          headers: request.headers,
        });
        if (request.url?.includes('gone')) {
          response.writeHead(410).end();
          return;
        }
        if (failNext > 0) {
          failNext--;
          response.writeHead(503).end();
          return;
        }
        response.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('posts signed JSON, retries a failing receiver with the same delivery id, routes by agency and severity', async () => {
    received.length = 0;
    failNext = 1;
    const notifier = new Notifier({
      webhooks: [{ url, secret: SECRET, agencies: ['so-tttt'], minSeverity: 'high' }],
      throttle: new MemoryThrottle(),
      throttleMs: 60_000,
      retry: { attempts: 3, backoffMs: 20 },
      logger,
    });
    await notifier.notify([
      change('opened'),
      change('opened', { id: 'inc-low', severity: 'medium' }),
      change('opened', { id: 'inc-other', agency: 'so-y-te' }),
    ]);
    await notifier.drain();
    expect(received).toHaveLength(2); // one 503, then the retry
    const [first, second] = received;
    expect(second!.headers['x-siem-delivery']).toBe(first!.headers['x-siem-delivery']);
    const timestamp = String(second!.headers['x-siem-timestamp']);
    expect(second!.headers['x-siem-signature']).toBe(signatureOf(SECRET, timestamp, second!.body));
    expect(second!.headers['x-siem-signature']).not.toBe(signatureOf('wrong', timestamp, second!.body));
    expect(JSON.parse(second!.body)).toMatchObject({
      kind: 'opened',
      incident: {
        id: 'inc-1',
        severity: 'high',
        agency: 'so-tttt',
        ruleLink: 'https://example.org/rules/bf',
      },
    });
  });

  it('keeps deliveries in Redis: a worker stopped mid-retry leaves them to the next, refused ones stay failed', async () => {
    received.length = 0;
    failNext = 2;
    const prefix = uniquePrefix('notify');
    const retry = { attempts: 5, backoffMs: 200 };
    const redis = new Redis(REDIS_URL);
    const webhooks = [
      { url, secret: SECRET, minSeverity: 'low' as const },
      { url: `${url}?gone`, minSeverity: 'low' as const },
    ];
    const queue = () => new RedisDeliveryQueue({ redisUrl: REDIS_URL, prefix, retry, logger });
    const notifierIn = (deliveries: RedisDeliveryQueue) =>
      new Notifier({
        webhooks,
        throttle: new MemoryThrottle(),
        throttleMs: 60_000,
        retry,
        deliveries,
        logger,
      });
    try {
      const first = queue();
      const worker1 = notifierIn(first);
      await worker1.notify([change('opened')]);
      // The first attempt fails (503); the worker stops before the retry is due.
      const toHook = () => received.filter((r) => !r.url.includes('gone'));
      await waitUntil(() => toHook().length >= 1);
      await worker1.close();
      expect(toHook()).toHaveLength(1);

      const second = queue();
      const worker2 = notifierIn(second);
      await waitUntil(async () => (await second.counts()).completed === 1, 15_000);
      // The refused route (410) was tried once, the other one until it succeeded: 503, 503, 204.
      const hook = toHook();
      expect(hook).toHaveLength(3);
      expect(new Set(hook.map((r) => r.headers['x-siem-delivery'])).size).toBe(1);
      expect(received.filter((r) => r.url.includes('gone'))).toHaveLength(1);
      const counts = await second.counts();
      expect(counts).toMatchObject({ completed: 1, failed: 1, waiting: 0, delayed: 0, active: 0 });
      await worker2.close();
    } finally {
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    }
  });

  it('sends a stream of updates to one incident once per window', async () => {
    received.length = 0;
    const notifier = new Notifier({
      webhooks: [{ url, minSeverity: 'low' }],
      throttle: new MemoryThrottle(),
      throttleMs: 60_000,
      retry: { attempts: 1, backoffMs: 1 },
      logger,
    });
    await notifier.notify(Array.from({ length: 25 }, () => change('updated')));
    await notifier.notify([change('updated', { id: 'inc-2' })]);
    await notifier.drain();
    expect(received.map((r) => JSON.parse(r.body).incident.id)).toEqual(['inc-1', 'inc-2']);
    expect(received[0]!.headers['x-siem-signature']).toBeUndefined();
  });
});

describe('e-mail through a real SMTP server over STARTTLS', () => {
  const dir = mkdtempSync(join(tmpdir(), 'siem-smtp-'));
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  let smtp: ChildProcess;
  let port: number;
  const messages: { to: string[]; secure: boolean; data: string }[] = [];

  beforeAll(async () => {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=IP:127.0.0.1,DNS:localhost',
        '-keyout',
        key,
        '-out',
        cert,
      ],
      { stdio: 'ignore' },
    );
    const program = fileURLToPath(new URL('./test-support/smtp-server.ts', import.meta.url));
    smtp = spawn(process.execPath, ['--import', 'tsx', program, cert, key], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    port = await new Promise<number>((resolve, reject) => {
      let buffered = '';
      smtp.once('exit', (code) => reject(new Error(`smtp server exited (${code})`)));
      smtp.stdout!.on('data', (chunk: Buffer) => {
        buffered += chunk.toString();
        let newline = buffered.indexOf('\n');
        while (newline >= 0) {
          const line = JSON.parse(buffered.slice(0, newline));
          buffered = buffered.slice(newline + 1);
          if (line.port) resolve(line.port);
          else messages.push(line);
          newline = buffered.indexOf('\n');
        }
      });
    });
  });
  afterAll(() => {
    smtp?.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  });

  const waitForMessages = async (count: number) => {
    const deadline = Date.now() + 10_000;
    while (messages.length < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  };

  it('mails high incidents to the agency on-call over TLS; a storm is one message; the next counts the rest', async () => {
    const sender = new EmailSender({
      host: '127.0.0.1',
      port,
      security: 'starttls',
      caFile: cert,
      from: 'siem@haugiang.example',
    });
    const notifier = new Notifier({
      webhooks: [],
      email: {
        send: (message) => sender.send(message),
        minSeverity: 'high',
        recipientOf: (agency) => (agency === 'so-tttt' ? 'oncall@so-tttt.example' : undefined),
      },
      throttle: new MemoryThrottle(),
      throttleMs: 400,
      retry: { attempts: 1, backoffMs: 1 },
      logger,
    });
    // A storm: 30 brute-force incidents of one agency (30 addresses), plus a medium one and an update.
    await notifier.notify([
      ...Array.from({ length: 30 }, (_, n) =>
        change('opened', { id: `storm-${n}`, groupBy: { 'source.ip': `203.0.113.${n}` } }),
      ),
      change('opened', { id: 'medium', severity: 'medium', ruleId: 'other' }),
      change('updated', { id: 'update', ruleId: 'third' }),
    ]);
    await notifier.drain();
    await waitForMessages(1);
    await new Promise((r) => setTimeout(r, 500)); // the throttle window passes
    await notifier.notify([change('opened', { id: 'after', title: 'After the storm' })]);
    await notifier.drain();
    await waitForMessages(2);
    sender.close();

    expect(messages).toHaveLength(2);
    expect(messages.every((m) => m.secure)).toBe(true);
    expect(messages.map((m) => m.to)).toEqual([['oncall@so-tttt.example'], ['oncall@so-tttt.example']]);
    expect(messages[0]!.data).toMatch(/^Subject: /m);
    expect(messages[0]!.data).toContain('Severity:    HIGH');
    expect(messages[0]!.data).toContain('Incident id: storm-0');
    expect(messages[1]!.data).toContain('After the storm');
    expect(messages[1]!.data).toContain('29 similar notification(s) held back');
  });

  it('refuses to send in clear text: an untrusted certificate fails the delivery', async () => {
    const sender = new EmailSender({
      host: '127.0.0.1',
      port,
      security: 'starttls',
      from: 'siem@haugiang.example',
    });
    await expect(sender.send({ to: 'x@example.org', subject: 's', text: 't' })).rejects.toThrow(
      /certificate/i,
    );
    sender.close();
  });
});

describe('throttle shared through Redis', () => {
  const prefix = uniquePrefix('throttle');
  const redis = new Redis(REDIS_URL);
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  it('lets one of several workers send per key and window, and reports the held-back count after', async () => {
    const workers = [1, 2, 3].map(() => new RedisThrottle({ redis, prefix }));
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) => workers[i % 3]!.take('email:so-tttt:rule-bf', 300)),
    );
    expect(results.filter((r) => r.send)).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 350));
    expect(await workers[1]!.take('email:so-tttt:rule-bf', 300)).toEqual({ send: true, suppressed: 11 });
  });
});
