/**
 * Mark false positive with its exception filter, end to end in embedded mode (`serve` in this process:
 * TCP syslog listener, in-process queue, worker stages, API): ten sshd failures open an SSH Brute Force
 * incident; the analyst marks it a false positive with a filter (on the failed-password rule the correlation
 * counts); the same source's failures keep being indexed but no longer fire (the incident stays closed, its
 * count unchanged), while another address still opens one.
 * The source inventory counts the listener's sources on the way.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningService } from '../../bin/commands/serve.js';
import { serveEmbedded } from '../support/embedded-serve.js';

const NOISY = '203.0.113.9';
const OTHER = '203.0.113.10';
const FAILED_PASSWORD = '8777fb77-a27d-45a0-9f0a-2a8dc9f15429';
const BRUTE_FORCE = 'd10613ff-c77f-4b3d-a40c-cbc0d0a9d789';
/** The brute-force correlation's threshold: ten failures in ten minutes fire it once. */
const BURST = 10;

interface IncidentView {
  id: string;
  ruleId: string;
  status: string;
  detectionCount: number;
  groupBy: Record<string, string>;
}

describe('false positive with an exception filter (embedded, end to end)', () => {
  let dir: string;
  let service: RunningService;
  let adminKey: string;
  let syslogPort: number;
  let seq = 0;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'siem-fp-'));
    ({ service, adminKey } = await serveEmbedded(dir));
    syslogPort = service.listeners[0]!.port;
  });
  afterAll(async () => {
    await service?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const api = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${service.apiUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${adminKey}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  /** RFC 5424 over TCP (octet-counted framing), as rsyslog forwards. */
  const sendFailures = async (ip: string, count: number) => {
    const frames = Array.from({ length: count }, () => {
      seq++;
      const line = `<38>1 ${new Date().toISOString()} web01 sshd 4242 - - Failed password for root from ${ip} port ${40000 + seq} ssh2`;
      return `${Buffer.byteLength(line)} ${line}`;
    });
    await new Promise<void>((resolve, reject) => {
      const socket = connect(syslogPort, '127.0.0.1', () => socket.end(frames.join('')));
      socket.on('close', () => resolve());
      socket.on('error', reject);
    });
  };

  const eventsFrom = async (ip: string) =>
    (await api('GET', `/api/events?filter=${encodeURIComponent(`source.ip:${ip}`)}&limit=1`)).body
      .total as number;

  const incidentsFor = async (ip: string) =>
    (
      (await api('GET', `/api/incidents?rule=${BRUTE_FORCE}&limit=100`)).body.incidents as IncidentView[]
    ).filter((incident) => incident.groupBy['source.ip'] === ip);

  const waitFor = async <T>(probe: () => Promise<T | undefined>, what: string, ms = 20_000): Promise<T> => {
    const deadline = Date.now() + ms;
    for (;;) {
      const value = await probe();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  it('stops the rule firing for that entity in that agency, and only there', async () => {
    await sendFailures(NOISY, BURST);
    const [opened] = await waitFor(async () => {
      const found = await incidentsFor(NOISY);
      return found.length === 1 && found[0]!.detectionCount === 1 ? found : undefined;
    }, 'the brute-force incident');

    const detail = await api('GET', `/api/incidents/${opened!.id}`);
    const marked = await api('POST', `/api/incidents/${opened!.id}/false-positive`, {
      version: detail.body.version,
      reason: 'the vulnerability scanner',
      filter: true,
    });
    expect(marked.status).toBe(200);
    expect(marked.body.filters).toEqual([
      expect.objectContaining({
        rules: [FAILED_PASSWORD],
        selection: { 'agency.id': 'so-tttt', 'source.ip': NOISY },
      }),
    ]);

    // The same source again: indexed, but no detection, so the incident is not reopened.
    const before = await eventsFrom(NOISY);
    await sendFailures(NOISY, BURST);
    await waitFor(
      async () => ((await eventsFrom(NOISY)) === before + BURST ? true : undefined),
      'the new events',
    );
    // Another address afterwards still fires (and proves the batches after the filter were matched).
    await sendFailures(OTHER, BURST);
    await waitFor(async () => {
      const found = await incidentsFor(OTHER);
      return found.length === 1 && found[0]!.detectionCount === 1 ? true : undefined;
    }, 'the other address’s incident');

    const after = await incidentsFor(NOISY);
    expect(after).toHaveLength(1);
    expect(after[0]).toMatchObject({ id: opened!.id, status: 'false_positive', detectionCount: 1 });
    const filterId = (marked.body.filters as { id: string }[])[0]!.id;
    const rule = await api('GET', `/api/rules/${filterId}`);
    expect(rule.body).toMatchObject({
      kind: 'filter',
      enabled: true,
      agency: 'so-tttt',
      incidentId: opened!.id,
    });

    // Disabling the filter brings the rule back for that address.
    expect((await api('PATCH', `/api/rules/${filterId}`, { enabled: false })).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 200));
    await sendFailures(NOISY, BURST);
    await waitFor(async () => {
      const found = await incidentsFor(NOISY);
      return found.some((incident) => incident.status !== 'false_positive' || incident.detectionCount > 1)
        ? true
        : undefined;
    }, 'the rule firing again once the filter is off');
  });

  it('lists the listener’s source in the inventory with its counts', async () => {
    const source = await waitFor(async () => {
      const { body } = await api('GET', '/api/sources?agency=so-tttt');
      const sources = body.sources as { host: string; events: number }[];
      const web = sources.find((s) => s.host === 'web01');
      return web && web.events >= seq ? web : undefined;
    }, 'the web01 source');
    expect(source).toMatchObject({
      agency: 'so-tttt',
      listener: 'syslog-tcp',
      events: seq,
      parseFailures: 0,
      silent: false,
    });
    const agencies = (await api('GET', '/api/agencies')).body.agencies as { id: string; sources: number }[];
    expect(agencies.find((agency) => agency.id === 'so-tttt')).toMatchObject({ sources: 1 });
  });
});
