/**
 * Ingest against real logs in ../shared/data (issue 3): every OpenSSH line of the loghub sample yields the
 * right event.action, source.ip and user.name (checked against an independent regex), no real line turns
 * into a parse failure, RFC 3164 times never land in the future, and Windows events from SigmaHQ's
 * regression set (evtx JSON) and OTRF captures (NXLog-style NDJSON) normalise with their event code,
 * channel and event data.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AgencyDirectory } from '../core/agencies.js';
import type { RawRecord, SecurityEvent } from '../core/model.js';
import { createNormaliser } from '../ingest/normalise.js';
import { parseConcatenatedJson } from './support/evtx.js';
import { SHARED_DATA } from './support/shared-data.js';

const DATA = SHARED_DATA;
const LOGHUB = join(DATA, 'logs/loghub');
if (!existsSync(LOGHUB))
  throw new Error(`${LOGHUB} is missing: the conformance checks need ../shared/data (or SHARED_DATA_DIR)`);

const agencies = AgencyDirectory.fromFile(resolve('fixtures/agencies/hau-giang.yaml'));
const normalise = createNormaliser({ agencies, defaultTimezone: 'Asia/Ho_Chi_Minh' });
const RECEIVED_AT = Date.parse('2026-11-26T08:00:00Z');

function records(texts: string[], transport: RawRecord['transport']): RawRecord[] {
  return texts.map((text, seq) => ({
    text,
    receivedAt: RECEIVED_AT,
    transport,
    peer: '10.93.2.10:514',
    listener: 'conformance',
    seq,
  }));
}

/** Lines as a file reader frames them: LF or CRLF (the loghub files have CRLF). */
function lines(file: string): string[] {
  return readFileSync(file, 'utf8')
    .split(/\r?\n/)
    .filter((line) => line.trim() !== '');
}

type Ecs = SecurityEvent & {
  source?: { ip?: string; domain?: string };
  user?: { name?: string };
  winlog?: { channel?: string; event_data?: Record<string, string> };
};

describe('loghub OpenSSH (1,000 lines of a brute-forced lab server)', () => {
  const texts = lines(join(LOGHUB, 'OpenSSH_1k.log'));
  const events = normalise(records(texts, 'file')) as Ecs[];

  it('never fails and never dates a line after its receipt', () => {
    expect(events).toHaveLength(texts.length);
    for (const event of events) {
      expect(event.tags ?? []).not.toContain('_parse_failure');
      expect(Date.parse(event['@timestamp'])).toBeLessThanOrEqual(RECEIVED_AT);
    }
  });

  it('reads every login line as an independent regex does', () => {
    const LOGIN =
      /sshd\[\d+\]: (?:message repeated \d+ times: \[ )?(Failed|Accepted) (\S+) for (invalid user )?(.*) from ([\d.]+) port (\d+)/;
    const INVALID = /sshd\[\d+\]: Invalid user (.*) from ([\d.]+)$/;
    let checked = 0;
    texts.forEach((text, i) => {
      const event = events[i]!;
      const login = LOGIN.exec(text);
      if (login) {
        checked++;
        expect(event.event.action, text).toBe('ssh_login');
        expect(event.event.outcome, text).toBe(login[1] === 'Accepted' ? 'success' : 'failure');
        expect(event.source?.ip, text).toBe(login[5]);
        expect(event.user?.name, text).toBe(login[4]);
        return;
      }
      const invalid = INVALID.exec(text);
      if (invalid) {
        checked++;
        expect(event.event.action, text).toBe('ssh_invalid_user');
        expect(event.user?.name, text).toBe(invalid[1]);
        expect(event.source?.ip, text).toBe(invalid[2]);
      }
    });
    expect(checked).toBeGreaterThan(300);
  });

  it('classifies the PAM failures with the remote host', () => {
    const pam = texts
      .map((text, i) => [text, events[i]!] as const)
      .filter(([text]) => text.includes('authentication failure;'));
    expect(pam.length).toBeGreaterThan(100);
    for (const [text, event] of pam) {
      expect(event.event.action, text).toBe('pam_authentication_failure');
      const rhost = /rhost=(\S+)/.exec(text)?.[1];
      if (rhost) expect(event.source?.ip ?? event.source?.domain, text).toBe(rhost);
    }
  });
});

describe('loghub Linux and Apache error logs', () => {
  for (const name of ['Linux_1k.log', 'Apache_1k.log', 'Proxifier_1k.log']) {
    it(`${name}: one event per line, none a parse failure`, () => {
      const texts = lines(join(LOGHUB, name));
      const events = normalise(records(texts, 'file'));
      expect(events).toHaveLength(texts.length);
      for (const [i, event] of events.entries()) {
        expect(event.tags ?? [], texts[i]).not.toContain('_parse_failure');
        expect(event.event.original).toBe(texts[i]);
      }
    });
  }

  it('Linux_1k: the old sshd(pam_unix) lines are authentication failures with the remote host', () => {
    const texts = lines(join(LOGHUB, 'Linux_1k.log')).filter((text) =>
      /sshd\(pam_unix\)\[\d+\]: authentication failure/.test(text),
    );
    expect(texts.length).toBeGreaterThan(50);
    for (const event of normalise(records(texts, 'file')) as Ecs[]) {
      expect(event.event.action).toBe('pam_authentication_failure');
      expect(event.source?.ip ?? event.source?.domain).toBeDefined();
    }
  });
});

describe('Windows events', () => {
  function walk(dir: string): string[] {
    return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
      entry.isDirectory()
        ? walk(join(dir, entry.name))
        : entry.name.endsWith('.json')
          ? [join(dir, entry.name)]
          : [],
    );
  }

  it('SigmaHQ regression evtx JSON: code, channel, provider and every EventData field land in winlog', () => {
    const files = walk(join(DATA, 'sigma/regression'));
    expect(files.length).toBeGreaterThan(50);
    let count = 0;
    for (const file of files) {
      for (const doc of parseConcatenatedJson(readFileSync(file, 'utf8')) as {
        Event: { System: Record<string, unknown>; EventData?: Record<string, unknown> };
      }[]) {
        const [event] = normalise(records([JSON.stringify(doc)], 'http')) as Ecs[];
        const system = doc.Event.System;
        const id = system.EventID as unknown;
        expect(event!.event.code, file).toBe(
          String(typeof id === 'object' && id ? (id as Record<string, unknown>)['#text'] : id),
        );
        expect(event!.winlog?.channel, file).toBe(system.Channel);
        for (const key of Object.keys(doc.Event.EventData ?? {})) {
          if (key !== '#attributes' && typeof doc.Event.EventData![key] !== 'object') {
            expect(event!.winlog?.event_data, file).toHaveProperty([key]);
          }
        }
        expect(event!.tags ?? []).not.toContain('_parse_failure');
        count++;
      }
    }
    expect(count).toBeGreaterThan(100);
  });

  it('OTRF captures (NXLog-style NDJSON): every event keeps its code, channel and host', () => {
    const zips = join(DATA, 'windows/otrf/zips');
    let count = 0;
    for (const zip of readdirSync(zips).filter((name) => name.endsWith('.zip'))) {
      const listing = execFileSync('unzip', ['-Z1', join(zips, zip)], { encoding: 'utf8' });
      if (!listing.split('\n').some((name) => name.endsWith('.json'))) continue;
      const text = execFileSync('unzip', ['-p', join(zips, zip), '*.json'], {
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
      });
      const docs = lines_(text);
      const events = normalise(records(docs, 'http')) as Ecs[];
      for (const [i, event] of events.entries()) {
        const doc = JSON.parse(docs[i]!) as { EventID: number; Channel: string; Hostname: string };
        expect(event.event.code).toBe(String(doc.EventID));
        expect(event.winlog?.channel).toBe(doc.Channel);
        expect((event.host as { name?: string }).name).toBe(doc.Hostname);
        expect(event.tags ?? []).not.toContain('_parse_failure');
        count++;
      }
    }
    expect(count).toBeGreaterThan(1000);
  });
});

function lines_(text: string): string[] {
  return text.split('\n').filter((line) => line.trim() !== '');
}
