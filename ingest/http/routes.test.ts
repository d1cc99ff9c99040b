import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import Fastify, { type FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { AgencyDirectory } from '../../core/agencies.js';
import { IngestAccounting, ingestCounters } from '../accounting.js';
import { createNormaliser } from '../normalise.js';
import { CollectingQueue } from '../test-support/collecting-queue.js';
import { ingestHttpRoutes } from './routes.js';

const TOKEN = 'tok-so-tttt-3f9a1c';
const PLAIN_TOKEN = 'tok-vp-ubnd-plain';
const agencies = new AgencyDirectory([
  {
    id: 'so-tttt',
    name_vi: 'Sở Thông tin và Truyền thông',
    name_en: 'Department of Information and Communications',
    kind: 'department',
    cidrs: ['10.93.2.0/24'],
    ingest_tokens: [`sha256:${createHash('sha256').update(TOKEN).digest('hex')}`],
  },
  {
    id: 'vp-ubnd',
    name_vi: 'Văn phòng',
    name_en: 'Office',
    kind: 'provincial',
    cidrs: [],
    ingest_tokens: [PLAIN_TOKEN],
  },
]);

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function start(
  queue = new CollectingQueue(),
  extra: Partial<Parameters<typeof ingestHttpRoutes>[1]> = {},
) {
  const accounting = new IngestAccounting(ingestCounters(new Registry()));
  app = Fastify();
  await app.register(ingestHttpRoutes, {
    queue,
    agencies,
    accounting,
    maxBodyBytes: 64 * 1024,
    maxDecodedBytes: 256 * 1024,
    ...extra,
  });
  await app.ready();
  return { app, queue, accounting };
}

const bearer = { authorization: `Bearer ${TOKEN}` };
const normalise = createNormaliser({ agencies, defaultTimezone: 'Asia/Ho_Chi_Minh' });

async function total(
  counter: { get(): Promise<{ values: { value: number; labels: Record<string, unknown> }[] }> },
  labels: Record<string, string>,
) {
  const { values } = await counter.get();
  return values
    .filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))
    .reduce((sum, v) => sum + v.value, 0);
}

describe('POST /ingest/v1/events', () => {
  it('takes a JSON array, attributes the token agency and the documents normalise (Windows shapes too)', async () => {
    const { queue, accounting } = await start();
    const documents = [
      {
        Event: {
          System: { EventID: 4625, Channel: 'Security', Computer: 'DC01' },
          EventData: { TargetUserName: 'administrator', IpAddress: '203.0.113.5' },
        },
      },
      {
        EventID: 4688,
        Channel: 'Security',
        Hostname: 'PC01',
        NewProcessName: 'C:\\Windows\\System32\\whoami.exe',
        SubjectUserName: 'ketoan',
      },
      { '@timestamp': '2024-06-15T13:00:00Z', message: 'hello', agency: { id: 'spoofed' } },
    ];
    const response = await app!.inject({
      method: 'POST',
      url: '/ingest/v1/events',
      headers: bearer,
      payload: documents,
    });
    expect(response.statusCode).toBe(202);
    expect(response.json()).toEqual({ accepted: 3 });
    expect(queue.records.map((record) => [record.transport, record.agency, record.listener])).toEqual([
      ['http', 'so-tttt', 'http'],
      ['http', 'so-tttt', 'http'],
      ['http', 'so-tttt', 'http'],
    ]);
    const events = normalise(queue.records);
    expect(events[0]!.event).toMatchObject({ code: '4625', action: 'logon-failed', outcome: 'failure' });
    expect(events[0]).toMatchObject({ source: { ip: '203.0.113.5' }, user: { name: 'administrator' } });
    expect(events[1]).toMatchObject({ event: { code: '4688' }, process: { name: 'whoami.exe' } });
    expect(events[2]!.agency.id).toBe('so-tttt');
    expect(await total(accounting.counters.queued, { agency: 'so-tttt' })).toBe(3);
  });

  it('takes gzip NDJSON; a bad line becomes a parse failure without failing its neighbours', async () => {
    const { queue } = await start();
    const body = gzipSync('{"message":"one"}\n{not json\n\n{"message":"three"}\n');
    const response = await app!.inject({
      method: 'POST',
      url: '/ingest/v1/events',
      headers: { ...bearer, 'content-type': 'application/x-ndjson', 'content-encoding': 'gzip' },
      payload: body,
    });
    expect(response.statusCode).toBe(202);
    expect(response.json()).toEqual({ accepted: 3 });
    const events = normalise(queue.records);
    expect(events.map((event) => event.tags ?? [])).toEqual([[], ['_parse_failure'], []]);
    expect(events[1]!.event.original).toBe('{not json');
  });

  it('refuses missing or unknown tokens and non-ingest API keys; accepts plain tokens and ingest keys', async () => {
    await start(new CollectingQueue(), {
      verifyApiKey: async (token) =>
        token === 'key-ingest'
          ? { role: 'ingest', agencies: ['so-tttt'] }
          : token === 'key-analyst'
            ? { role: 'analyst' }
            : null,
    });
    const post = (headers: Record<string, string>) =>
      app!.inject({ method: 'POST', url: '/ingest/v1/events', headers, payload: [{ message: 'x' }] });
    expect((await post({})).statusCode).toBe(401);
    // Checked before the body is read: an unknown sender gets 401, not 413, for an oversized body.
    const oversized = await app!.inject({
      method: 'POST',
      url: '/ingest/v1/events',
      payload: 'x'.repeat(100 * 1024),
    });
    expect(oversized.statusCode).toBe(401);
    expect((await post({ authorization: 'Bearer nope' })).statusCode).toBe(401);
    expect((await post({ authorization: 'Bearer key-analyst' })).statusCode).toBe(403);
    expect((await post({ authorization: 'Bearer key-ingest' })).statusCode).toBe(202);
    expect((await post({ authorization: `Bearer ${PLAIN_TOKEN}` })).statusCode).toBe(202);
  });

  it('answers 429 with Retry-After when the queue is saturated, and counts the documents', async () => {
    const queue = new CollectingQueue();
    queue.full = true;
    const { accounting } = await start(queue);
    const response = await app!.inject({
      method: 'POST',
      url: '/ingest/v1/events',
      headers: bearer,
      payload: [{ a: 1 }, { a: 2 }],
    });
    expect(response.statusCode).toBe(429);
    expect(response.headers['retry-after']).toBe('1');
    expect(queue.records).toHaveLength(0);
    expect(await total(accounting.counters.rejected, { reason: 'backpressure' })).toBe(2);
    expect(await total(accounting.counters.received, {})).toBe(2);
  });

  it('answers 503 with Retry-After when the queue fails', async () => {
    const queue = new CollectingQueue();
    queue.enqueue = async () => {
      throw new Error('redis down');
    };
    await start(queue);
    const response = await app!.inject({
      method: 'POST',
      url: '/ingest/v1/events',
      headers: bearer,
      payload: [{ a: 1 }],
    });
    expect(response.statusCode).toBe(503);
    expect(response.headers['retry-after']).toBe('1');
  });

  it('limits the body as sent and once decompressed (413), and refuses a broken array (400)', async () => {
    const { accounting } = await start();
    const big = await app!.inject({
      method: 'POST',
      url: '/ingest/v1/events',
      headers: { ...bearer, 'content-type': 'application/json' },
      payload: 'x'.repeat(70 * 1024),
    });
    expect(big.statusCode).toBe(413);
    const bomb = await app!.inject({
      method: 'POST',
      url: '/ingest/v1/events',
      headers: { ...bearer, 'content-type': 'application/x-ndjson', 'content-encoding': 'gzip' },
      payload: gzipSync(Buffer.alloc(1024 * 1024, 0x20)),
    });
    expect(bomb.statusCode).toBe(413);
    expect(await total(accounting.counters.rejected, { reason: 'too_large', agency: 'so-tttt' })).toBe(2);
    const broken = await app!.inject({
      method: 'POST',
      url: '/ingest/v1/events',
      headers: { ...bearer, 'content-type': 'application/json' },
      payload: '[{"a":1},',
    });
    expect(broken.statusCode).toBe(400);
    expect(broken.json().message).toMatch(/not a JSON array/);
  });
});

describe('Elasticsearch-compatible _bulk', () => {
  it('takes a Fluent Bit es output request (Basic auth, gzip, create actions) and answers per item', async () => {
    const { queue } = await start();
    // What Fluent Bit 2.x/3.x sends with `Suppress_Type_Name On`, `Compress gzip`, HTTP_User/HTTP_Passwd.
    const body = [
      '{"create":{"_index":"fluent-bit"}}',
      '{"@timestamp":"2024-06-15T13:00:00.000Z","log":"Failed password for root from 203.0.113.5 port 22 ssh2","host":{"name":"web01"}}',
      '{"create":{"_index":"fluent-bit"}}',
      '{"@timestamp":"2024-06-15T13:00:01.000Z","log":"second"}',
      '',
    ].join('\n');
    const response = await app!.inject({
      method: 'POST',
      url: '/_bulk',
      headers: {
        authorization: `Basic ${Buffer.from(`so-tttt:${TOKEN}`).toString('base64')}`,
        'content-type': 'application/x-ndjson',
        'content-encoding': 'gzip',
        'user-agent': 'Fluent-Bit',
      },
      payload: gzipSync(body),
    });
    expect(response.statusCode).toBe(200);
    const reply = response.json();
    expect(reply.errors).toBe(false);
    expect(reply.items).toHaveLength(2);
    expect(reply.items[0].create).toMatchObject({ _index: 'fluent-bit', status: 201, result: 'created' });
    expect(typeof reply.items[0].create._id).toBe('string');
    expect(queue.records.map((record) => record.agency)).toEqual(['so-tttt', 'so-tttt']);
    const [event] = normalise(queue.records);
    expect(event!.message).toBe('Failed password for root from 203.0.113.5 port 22 ssh2');
    // The bulk answer's _id is the event id the store will use, so a shipper's retry is idempotent.
    expect(reply.items[0].create._id).toBe(event!.event.id);
  });

  it('refuses update/delete per item, keeps index actions, and serves the version probe under /es/', async () => {
    const { queue } = await start();
    const body = [
      '{"index":{"_index":"logs","_id":"a1"}}',
      '{"message":"kept"}',
      '{"delete":{"_index":"logs","_id":"a2"}}',
      '{"update":{"_index":"logs","_id":"a3"}}',
      '{"doc":{"x":1}}',
      '',
    ].join('\n');
    const apiKey = Buffer.from(`id1:${TOKEN}`).toString('base64');
    const response = await app!.inject({
      method: 'POST',
      url: '/es/logs/_bulk',
      headers: { authorization: `ApiKey ${apiKey}`, 'content-type': 'application/x-ndjson' },
      payload: body,
    });
    expect(response.statusCode).toBe(200);
    const reply = response.json();
    expect(reply.errors).toBe(true);
    expect(
      reply.items.map(
        (item: Record<string, { status: number }>) => Object.entries(item).map(([k, v]) => [k, v.status])[0],
      ),
    ).toEqual([
      ['index', 201],
      ['delete', 400],
      ['update', 400],
    ]);
    expect(reply.items[0].index._id).toBe('a1');
    expect(queue.records.map((record) => record.text)).toEqual(['{"message":"kept"}']);
    const info = await app!.inject({
      method: 'GET',
      url: '/es/',
      headers: { authorization: `ApiKey ${apiKey}` },
    });
    expect(info.json().version.number).toMatch(/^8\./);
  });
});
