import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BUNDLED_PACK } from '../index.js';
import { rulesCheck, rulesTest } from './index.js';

const dir = mkdtempSync(join(tmpdir(), 'rules-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('rules check', () => {
  it('passes the bundled pack with exit 0 and a summary', () => {
    const result = rulesCheck({ paths: [BUNDLED_PACK] });
    expect(result.exitCode).toBe(0);
    expect(result.lines).toHaveLength(1);
    expect(result.lines[0]).toMatch(/^\d+ files, \d+ rules loaded, \d+ compiled to every backend, 0 errors$/);
  });

  it('reports one line per problem with file:line:column, JSON lines with --json, exit 1', () => {
    const bad = write(
      'bad.yml',
      `title: Bad
id: 11111111-1111-4111-8111-111111111111
logsource: {product: linux}
detection:
  sel: {a|nope: x}
  condition: sel
---
title: Needs a script in Elasticsearch
id: 22222222-2222-4222-8222-222222222222
logsource: {product: linux}
detection:
  sel: {user.name|fieldref: user.target.name}
  condition: sel
`,
    );
    const text = rulesCheck({ paths: [bad] });
    expect(text.exitCode).toBe(1);
    expect(text.lines[0]).toBe(
      `${bad}:5:9: unknown modifier 'nope' in 'a|nope' [11111111-1111-4111-8111-111111111111]`,
    );
    expect(text.lines[1]).toMatch(/cannot compile to elasticsearch: fieldref/);
    const json = rulesCheck({ paths: [bad], json: true });
    const objects = json.lines.map((l) => JSON.parse(l));
    expect(objects[0]).toMatchObject({ line: 5, column: 9, message: expect.stringContaining('nope') });
    expect(objects.at(-1)).toEqual({ summary: { files: 1, loaded: 1, compiled: 0, errors: 2 } });
  });

  it('exits 2 on a missing path', () => {
    expect(rulesCheck({ paths: [join(dir, 'nope')] }).exitCode).toBe(2);
  });
});

describe('rules test', () => {
  it('runs raw sshd syslog lines through the real normaliser and the correlations', () => {
    const lines = Array.from(
      { length: 10 },
      (_, i) =>
        `<38>1 2026-11-26T08:00:${String(i * 5).padStart(2, '0')}Z web01 sshd 812 - - Failed password for root from 203.0.113.5 port ${4700 + i} ssh2`,
    );
    const events = write('ssh.log', `${lines.join('\n')}\n`);
    const result = rulesTest({ rules: [BUNDLED_PACK], events, json: true });
    const objects = result.lines.map((l) => JSON.parse(l));
    const failed = objects.filter((o) => o.title === 'SSH Failed Password');
    expect(failed.map((o) => o.event)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(failed[0].selections).toEqual(['selection', 'sshd']);
    const brute = objects.find((o) => o.title === 'SSH Brute Force');
    expect(brute).toMatchObject({
      correlation: true,
      event: 9,
      groupBy: { 'source.ip': '203.0.113.5' },
      value: 10,
    });
    expect(objects.at(-1).summary).toMatchObject({ events: 10, matches: 11, errors: 0 });
    expect(result.exitCode).toBe(0);
  });

  it('takes ECS events with --ecs and flat events with --no-pipeline', () => {
    const ecs = write(
      'ecs.ndjson',
      `${JSON.stringify({ '@timestamp': '2026-11-26T08:00:00Z', event: { category: ['web'] }, url: { original: '/a?q=1 UNION SELECT 2' } })}\n`,
    );
    const text = rulesTest({ rules: [BUNDLED_PACK], events: ecs, ecs: true });
    expect(text.lines[0]).toMatch(
      /^event 0: SQL Injection Attempt In A Web Request \[.*\] — selections payload$/,
    );
    const rule = write(
      'flat-rule.yml',
      `title: Flat
id: 33333333-3333-4333-8333-333333333333
logsource: {product: windows, category: process_creation}
detection:
  sel: {Image|endswith: '\\whoami.exe'}
  condition: sel
`,
    );
    const flat = write(
      'flat.json',
      JSON.stringify([{ Image: 'C:\\Windows\\System32\\whoami.exe' }, { Image: 'x' }]),
    );
    const result = rulesTest({ rules: [rule], events: flat, noPipeline: true, json: true });
    expect(result.lines.map((l) => JSON.parse(l))).toEqual([
      { rule: '33333333-3333-4333-8333-333333333333', title: 'Flat', event: 0, selections: ['sel'] },
      { summary: { rules: 1, events: 2, matches: 1, errors: 0 } },
    ]);
  });

  it('counts unreadable events as errors (exit 1) and a missing file as a usage error (exit 2)', () => {
    const broken = write('broken.ndjson', '{"a": 1}\nnot json\n');
    const result = rulesTest({ rules: [BUNDLED_PACK], events: broken, ecs: true, json: true });
    expect(result.exitCode).toBe(1);
    expect(JSON.parse(result.lines[0]!).error).toMatchObject({ line: 2 });
    expect(rulesTest({ rules: [BUNDLED_PACK], events: join(dir, 'missing') }).exitCode).toBe(2);
  });
});
