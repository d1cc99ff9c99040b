/**
 * The live stream over the real change feeds (in memory, and Redis pub/sub as between processes): a
 * scoped key only ever receives its agencies' incidents; changes made through the API are streamed.
 */
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withVersions } from '../bin/runtime.js';
import { createLogger } from '../core/logger.js';
import type { ChangeFeed, IncidentChange } from '../core/ports.js';
import { MemoryChangeFeed, RedisChangeFeed } from '../correlator/change-feed.js';
import { REDIS_URL, uniquePrefix } from '../test/support/services.js';
import { incident } from './testing/fixtures.js';
import { AGENCY_A, AGENCY_B, type Harness, openHarness } from './testing/harness.js';

interface Stream {
  messages: IncidentChange[];
  raw: () => string;
  close(): void;
}

function openStream(base: string, key: string, query = ''): Promise<Stream> {
  return new Promise((resolve, reject) => {
    const messages: IncidentChange[] = [];
    let text = '';
    const req = httpRequest(
      `${base}/api/stream${query}`,
      { headers: { authorization: `Bearer ${key}` } },
      (res) => {
        if (res.statusCode !== 200) reject(new Error(`stream answered ${res.statusCode}`));
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
          for (const block of chunk.split('\n\n')) {
            const data = block.split('\n').find((line) => line.startsWith('data: '));
            if (data) messages.push(JSON.parse(data.slice(6)) as IncidentChange);
          }
          if (text.includes(': connected'))
            resolve({ messages, raw: () => text, close: () => req.destroy() });
        });
      },
    );
    req.on('error', () => {});
    req.end();
  });
}

const until = async (check: () => boolean) => {
  for (let i = 0; i < 100 && !check(); i++) await new Promise((r) => setTimeout(r, 20));
};

describe.each(['memory', 'redis'] as const)('live stream (%s change feed)', (kind) => {
  let h: Harness;
  let feed: ChangeFeed;
  let other: ChangeFeed;
  let base: string;
  beforeAll(async () => {
    const logger = createLogger({ level: 'silent' });
    const prefix = uniquePrefix('stream');
    feed =
      kind === 'memory'
        ? new MemoryChangeFeed()
        : new RedisChangeFeed({ redisUrl: REDIS_URL, prefix, logger });
    // In scale mode the worker publishing is another process: another connection on the same channel.
    other = kind === 'memory' ? feed : new RedisChangeFeed({ redisUrl: REDIS_URL, prefix, logger });
    h = await openHarness('embedded', { changes: feed });
    await h.incidents.create(incident('s-a', AGENCY_A));
    base = await h.app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await h?.dispose();
    await feed?.close();
    if (other !== feed) await other?.close();
  });

  it('sends a scoped key only its agencies, and everyone the changes made through the API', async () => {
    const scoped = await openStream(base, h.key.agencyA);
    const province = await openStream(base, h.key.analyst, '?severity=critical');
    const everything = await openStream(base, h.key.admin);
    const change = (id: string, agency: string, severity: 'high' | 'critical'): IncidentChange => ({
      kind: 'opened',
      incident: incident(id, agency, { severity }),
      actor: 'system',
      at: new Date().toISOString(),
    });
    await other.publish(change('w-b', AGENCY_B, 'critical'));
    await other.publish(change('w-a', AGENCY_A, 'high'));
    const { version } = (await h.incidents.get('s-a'))!;
    const patched = await h.call('PATCH', '/api/incidents/s-a', h.key.agencyA, {
      version,
      status: 'acknowledged',
    });
    expect(patched.statusCode).toBe(200);
    await until(() => everything.messages.length >= 3 && scoped.messages.length >= 2);
    expect(everything.messages.map((m) => m.incident.id)).toEqual(['w-b', 'w-a', 's-a']);
    expect(scoped.messages.map((m) => m.incident.id)).toEqual(['w-a', 's-a']);
    expect(scoped.raw()).not.toContain(AGENCY_B);
    expect(scoped.messages[1]).toMatchObject({ kind: 'status_changed', actor: 'analyst A' });
    // The API's change carries the version the PATCH answered: a console can PATCH again from the stream.
    const answered = patched.json() as { version: string };
    expect(answered.version).not.toBe(version);
    expect(scoped.messages[1]!.version).toBe(answered.version);
    expect(scoped.messages[1]!.incident.status).toBe('acknowledged');
    expect(province.messages.map((m) => m.incident.id)).toEqual(['w-b']);
    for (const stream of [scoped, province, everything]) stream.close();
  });

  it("gives the pipeline's unversioned changes the stored version, only while the incident is still in that state", async () => {
    await h.incidents.create(incident('s-v', AGENCY_A));
    const stored = (await h.incidents.get('s-v'))!;
    const at = new Date().toISOString();
    const current: IncidentChange = { kind: 'opened', incident: stored.value, actor: 'system', at };
    const stale: IncidentChange = { ...current, incident: { ...stored.value, detectionCount: 99 } };
    // A change that has its version (a batch write gave it) keeps it, even where a read would not agree.
    const written: IncidentChange = { ...stale, version: 'as-written' };
    expect(await withVersions(h.incidents, [current, stale, written])).toEqual([
      { ...current, version: stored.version },
      stale,
      written,
    ]);
    const stream = await openStream(base, h.key.agencyA);
    for (const change of await withVersions(h.incidents, [current])) await other.publish(change);
    await until(() => stream.messages.length >= 1);
    expect(stream.messages[0]).toMatchObject({ incident: { id: 's-v' }, version: stored.version });
    stream.close();
  });

  it('refuses a stream without a key or to an ioc key', async () => {
    await expect(openStream(base, 'nope')).rejects.toThrow('401');
    await expect(openStream(base, h.key.ioc)).rejects.toThrow('403');
  });
});
