/**
 * Runs every fixture file `fixtures/logs/<source>/*.log|*.ndjson` through the normaliser and compares with
 * the expected ECS beside it (`<file>.expected.json`, one entry per line; `event.id`, `event.ingested` and
 * `event.original` are left out of the files since they follow from the line). After a deliberate mapping
 * change, `UPDATE_FIXTURES=1 npx vitest run ingest/parsers/fixtures.test.ts` rewrites them: review the diff.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AgencyDirectory } from '../../core/agencies.js';
import type { RawRecord, SecurityEvent } from '../../core/model.js';
import { createNormaliser } from '../normalise.js';

const ROOT = resolve('fixtures/logs');
const UPDATE = process.env.UPDATE_FIXTURES === '1';
const agencies = AgencyDirectory.fromFile(resolve('fixtures/agencies/hau-giang.yaml'));
// Fixture lines span hours of one day: clock-skew flagging (tested in normalise.test.ts) would be noise here.
const normalise = createNormaliser({
  agencies,
  defaultTimezone: 'Asia/Ho_Chi_Minh',
  clockSkewMs: 7 * 86_400_000,
});
const RECEIVED_AT = Date.parse('2024-06-15T13:35:00Z');

function recordsOf(file: string): RawRecord[] {
  const lines = readFileSync(file, 'utf8').split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const http = file.endsWith('.ndjson');
  return lines.map((text, seq) => ({
    text,
    receivedAt: RECEIVED_AT,
    transport: http ? 'http' : 'udp',
    peer: http ? '10.93.2.60' : '10.93.2.10:514',
    listener: http ? 'http' : 'syslog-udp',
    seq,
  }));
}

function stable(event: SecurityEvent): unknown {
  const { id: _id, ingested: _ingested, original: _original, ...rest } = event.event;
  return { ...event, event: rest };
}

const sources = readdirSync(ROOT, { withFileTypes: true }).filter((entry) => entry.isDirectory());

describe('source parser fixtures', () => {
  it('has fixtures for every source named in the issue', () => {
    expect(sources.map((entry) => entry.name).sort()).toEqual([
      'auditd',
      'cef',
      'cisco-asa',
      'fortigate',
      'iptables',
      'json',
      'leef',
      'linux-auth',
      'paloalto',
      'pfsense',
      'web-access',
      'windows',
    ]);
  });

  for (const source of sources) {
    const dir = join(ROOT, source.name);
    for (const name of readdirSync(dir).filter((file) => /\.(log|ndjson)$/.test(file))) {
      it(`${source.name}/${name}`, () => {
        const file = join(dir, name);
        const records = recordsOf(file);
        const events = normalise(records);
        expect(events).toHaveLength(records.length);
        for (const [i, event] of events.entries()) expect(event.event.original).toBe(records[i]!.text);
        const actual = events.map(stable);
        const expectedFile = `${file}.expected.json`;
        if (UPDATE || !existsSync(expectedFile)) {
          writeFileSync(expectedFile, `${JSON.stringify(actual, null, 2)}\n`);
          if (!UPDATE) throw new Error(`${expectedFile} was missing and has been written: review it`);
        }
        expect(actual).toEqual(JSON.parse(readFileSync(expectedFile, 'utf8')));
      });
    }
  }
});
