/**
 * HTTP ingest through the real `serve` composition (embedded mode): an agent posting NDJSON and a shipper
 * posting `_bulk` exactly as Fluent Bit's Elasticsearch output does, both with an ingest-role key bound to an
 * agency → the events are searchable with that agency and the brute force opens an incident.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningService, serve } from '../../bin/commands/serve.js';
import { loadConfig } from '../../core/config.js';
import { createLogger } from '../../core/logger.js';
import { waitFor } from '../support/siem-process.js';

describe('HTTP ingest through serve (embedded)', () => {
  let dir: string;
  let service: RunningService;
  let admin: string;
  let ingestKey: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'siem-http-ingest-'));
    const { config } = loadConfig({
      env: {
        SIEM_DATA_DIR: join(dir, 'data'),
        SIEM_API__PORT: '0',
        SIEM_INGEST__LISTENERS: '[]',
        SIEM_INGEST__BATCH_MAX_WAIT: '20ms',
      },
    });
    service = await serve(config, createLogger({ level: 'silent' }));
    const { readFileSync } = await import('node:fs');
    admin = readFileSync(service.adminKeyFile!, 'utf8').trim();
    const created = await fetch(`${service.apiUrl}/api/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'fluent-bit so-y-te', role: 'ingest', agencies: ['so-y-te'] }),
    });
    expect(created.status).toBe(201);
    ingestKey = ((await created.json()) as { key: string }).key;
  });
  afterAll(async () => {
    await service?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const events = async (query: string) => {
    const response = await fetch(`${service.apiUrl}/api/events?${query}`, {
      headers: { authorization: `Bearer ${admin}` },
    });
    return (await response.json()) as {
      total: number;
      events: { agency: { id: string }; user?: { name: string } }[];
    };
  };

  it('takes NDJSON from an agent and _bulk from a shipper, attributed to the key’s agency', async () => {
    const line = (i: number) =>
      `<38>Nov 26 10:00:${String(i).padStart(2, '0')} web01 sshd[811]: Failed password for root from 198.51.100.44 port ${50000 + i} ssh2`;
    const ndjson = Array.from({ length: 5 }, (_, i) => JSON.stringify({ message: line(i) })).join('\n');
    const agent = await fetch(`${service.apiUrl}/ingest/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ingestKey}`, 'content-type': 'application/x-ndjson' },
      body: ndjson,
    });
    expect(agent.status).toBeLessThan(300);

    // Fluent Bit's es output: index action lines with _index, then the record with @timestamp and log.
    const bulk = Array.from({ length: 5 }, (_, i) =>
      [
        JSON.stringify({ index: { _index: 'fluent-bit' } }),
        JSON.stringify({ '@timestamp': '2026-11-26T03:00:00.000Z', log: line(10 + i) }),
      ].join('\n'),
    ).join('\n');
    const shipper = await fetch(`${service.apiUrl}/_bulk`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ingestKey}`, 'content-type': 'application/x-ndjson' },
      body: `${bulk}\n`,
    });
    expect(shipper.status).toBe(200);
    const result = (await shipper.json()) as { errors: boolean; items: unknown[] };
    expect(result.errors).toBe(false);
    expect(result.items).toHaveLength(5);

    const page = await waitFor(async () => {
      const found = await events(`filter=${encodeURIComponent('source.ip:198.51.100.44')}&limit=50`);
      return found.total >= 10 ? found : undefined;
    }, '10 events from HTTP ingest');
    expect(page.total).toBe(10);
    expect(new Set(page.events.map((event) => event.agency.id))).toEqual(new Set(['so-y-te']));
  });

  it('refuses ingest without a valid key and keeps analysts off it', async () => {
    const anonymous = await fetch(`${service.apiUrl}/ingest/v1/events`, {
      method: 'POST',
      body: '{"message":"x"}',
    });
    expect(anonymous.status).toBe(401);
    const wrong = await fetch(`${service.apiUrl}/_bulk`, {
      method: 'POST',
      headers: { authorization: 'Bearer sl_000000000000_nope', 'content-type': 'application/x-ndjson' },
      body: '{"index":{}}\n{"message":"x"}\n',
    });
    expect(wrong.status).toBe(401);
  });
});
