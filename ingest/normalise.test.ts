import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { AgencyDirectory, UNKNOWN_AGENCY } from '../core/agencies.js';
import { eventIdOf } from '../core/identity.js';
import type { RawRecord } from '../core/model.js';
import { ingestCounters } from './accounting.js';
import { createNormaliser, isoOf, peerAddress } from './normalise.js';
import { BUILTIN_PARSERS, ParserRegistry } from './parsers/registry.js';
import { invalid } from './parsers/source-parser.js';

const agencies = new AgencyDirectory([
  {
    id: 'vp-ubnd',
    name_vi: 'Văn phòng UBND tỉnh',
    name_en: 'Office',
    kind: 'provincial',
    cidrs: ['10.93.1.0/24', 'fd93:1::/48'],
  },
  {
    id: 'paris',
    name_vi: 'Paris',
    name_en: 'Paris',
    kind: 'department',
    cidrs: ['10.99.0.0/16'],
    timezone: 'Europe/Paris',
  },
]);
const receivedAt = Date.parse('2024-06-01T05:00:00Z');

function record(text: string, overrides: Partial<RawRecord> = {}): RawRecord {
  return {
    text,
    receivedAt,
    transport: 'udp',
    peer: '10.93.1.7:514',
    listener: 'syslog-udp',
    seq: 1,
    ...overrides,
  };
}

describe('createNormaliser', () => {
  const normalise = createNormaliser({ agencies, defaultTimezone: 'Asia/Ho_Chi_Minh' });

  it('builds the ECS event of an sshd line with envelope fields, id, original and agency by address', () => {
    const raw = record(
      '<38>Jun  1 11:59:00 bastion sshd[811]: Failed password for root from 203.0.113.5 port 2222 ssh2',
    );
    const [event] = normalise([raw]);
    expect(event).toEqual({
      '@timestamp': '2024-06-01T04:59:00.000Z',
      message: 'Failed password for root from 203.0.113.5 port 2222 ssh2',
      event: {
        id: eventIdOf(raw),
        ingested: '2024-06-01T05:00:00.000Z',
        original: raw.text,
        kind: 'event',
        category: ['authentication'],
        type: ['info'],
        action: 'ssh_login',
        outcome: 'failure',
        module: 'system',
        dataset: 'system.auth',
      },
      agency: { id: 'vp-ubnd' },
      input: { type: 'udp' },
      log: {
        source: { address: '10.93.1.7:514' },
        syslog: {
          priority: 38,
          facility: { code: 4, name: 'auth' },
          severity: { code: 6, name: 'informational' },
          hostname: 'bastion',
          appname: 'sshd',
          procid: '811',
        },
      },
      host: { hostname: 'bastion' },
      process: { name: 'sshd', pid: 811 },
      source: { ip: '203.0.113.5', port: 2222 },
      user: { name: 'root' },
      related: { ip: ['203.0.113.5'], user: ['root'] },
      system: { auth: { ssh: { event: 'Failed', method: 'password' } } },
    });
  });

  it('prefers the edge attribution, then the address (IPv6 too), else unknown', () => {
    expect(normalise([record('x', { agency: 'so-tttt' })])[0]!.agency.id).toBe('so-tttt');
    expect(normalise([record('x', { peer: '[fd93:1::5]:514' })])[0]!.agency.id).toBe('vp-ubnd');
    expect(normalise([record('x', { peer: '192.0.2.1:514' })])[0]!.agency.id).toBe(UNKNOWN_AGENCY);
    expect(normalise([record('x', { peer: '' })])[0]!.agency.id).toBe(UNKNOWN_AGENCY);
  });

  it("reads RFC 3164 times in the agency's zone", () => {
    const [event] = normalise([record('<14>Jun  1 06:59:00 h app: x', { peer: '10.99.0.1:514' })]);
    expect(event!['@timestamp']).toBe('2024-06-01T04:59:00.000Z');
  });

  it('uses the receive time when the header has none, and keeps microseconds', () => {
    expect(normalise([record('no header')])[0]!['@timestamp']).toBe('2024-06-01T05:00:00.000Z');
    const [event] = normalise([record('<14>1 2024-06-01T05:00:00.123456Z h a - - - x')]);
    expect(event!['@timestamp']).toBe('2024-06-01T05:00:00.123456Z');
  });

  it('flags clock skew beyond the threshold and keeps the event time', () => {
    const [ahead] = normalise([record('<14>1 2024-06-01T06:00:00Z h a - - - x')]);
    expect(ahead!.tags).toContain('_clock_skew');
    expect(ahead!['@timestamp']).toBe('2024-06-01T06:00:00.000Z');
    const [onTime] = normalise([record('<14>1 2024-06-01T05:01:00Z h a - - - x')]);
    expect(onTime!.tags).toBeUndefined();
  });

  it('gives the same id to a re-delivered record and different ids to identical lines', () => {
    const a = record('same line', { seq: 7 });
    const b = record('same line', { seq: 8 });
    const [first, second, again] = normalise([a, b, { ...a }]);
    expect(first!.event.id).toBe(again!.event.id);
    expect(first!.event.id).not.toBe(second!.event.id);
  });

  it('turns an invalid or crashing parser into a _parse_failure event that keeps the original', () => {
    const registry = new ParserRegistry([
      ...BUILTIN_PARSERS,
      { id: 'strict', programs: ['strict'], parse: () => invalid('not JSON') },
      {
        id: 'crashing',
        programs: ['crashing'],
        parse: () => {
          throw new Error('boom');
        },
      },
    ]);
    const withParsers = createNormaliser({ agencies, defaultTimezone: 'UTC', parsers: registry });
    const [refused, crashed] = withParsers([
      record('<14>Jun  1 05:00:00 h strict: {oops'),
      record('<14>Jun  1 05:00:00 h crashing: anything', { seq: 2 }),
    ]);
    expect(refused!.tags).toEqual(['_parse_failure']);
    expect(refused!.event.kind).toBe('pipeline_error');
    expect(refused!.error).toEqual({ message: 'not JSON', type: 'parse_failure' });
    expect(refused!.event.original).toBe('<14>Jun  1 05:00:00 h strict: {oops');
    expect(crashed!.tags).toEqual(['_parse_failure']);
    expect(crashed!.event.original).toBe('<14>Jun  1 05:00:00 h crashing: anything');
    expect(crashed!.message).toBe('<14>Jun  1 05:00:00 h crashing: anything');
  });

  it('uses the parser forced by the listener and tags an unknown one', () => {
    const [forced] = normalise([
      record('<14>Jun  1 05:00:00 h other: Invalid user x from 1.2.3.4', { parser: 'sshd' }),
    ]);
    expect(forced!.event.action).toBe('ssh_invalid_user');
    const [unknown] = normalise([record('<14>Jun  1 05:00:00 h other: x', { parser: 'nope' })]);
    expect(unknown!.tags).toContain('_unknown_parser');
  });

  it('reads a plain line posted over HTTP as syslog, and JSON as a document', () => {
    const [line, json] = normalise([
      record('<38>Jun  1 11:59:00 h sshd[1]: Invalid user x from 203.0.113.9', { transport: 'http' }),
      record('{"message":"hi"}', { transport: 'http', seq: 2 }),
    ]);
    expect(line!.event.action).toBe('ssh_invalid_user');
    expect(json!.message).toBe('hi');
    expect(json!.event.dataset).toBe('json.log');
  });

  it('marks truncated records', () => {
    const [event] = normalise([record('<14>Jun  1 05:00:00 h app: cut', { flags: ['truncated'] })]);
    expect(event!.tags).toContain('_truncated');
    expect((event!.log as { flags: string[] }).flags).toEqual(['truncated']);
  });

  it('counts parsed records by dataset and parse failures, per listener and agency', async () => {
    const counters = ingestCounters(new Registry());
    const counting = createNormaliser({ agencies, defaultTimezone: 'UTC', counters });
    counting([
      record('<38>Jun  1 04:59:00 h sshd[1]: Failed password for root from 203.0.113.5 port 1 ssh2'),
      record('<38>Jun  1 04:59:00 h sshd[1]: Failed password for root from 203.0.113.5 port 2 ssh2', {
        seq: 2,
      }),
      record('{"broken json', { seq: 3, transport: 'http', listener: 'http' }),
    ]);
    expect((await counters.parsed.get()).values).toEqual([
      { value: 2, labels: { listener: 'syslog-udp', agency: 'vp-ubnd', dataset: 'system.auth' } },
    ]);
    expect((await counters.parseFailures.get()).values).toEqual([
      { value: 1, labels: { listener: 'http', agency: 'vp-ubnd' } },
    ]);
  });

  it('refuses an unknown time zone at creation, not per record', () => {
    expect(() => createNormaliser({ agencies, defaultTimezone: 'Mars/Olympus' })).toThrow(/Mars\/Olympus/);
  });
});

describe('helpers', () => {
  it('peerAddress reads ip, ip:port, [v6]:port and bare v6', () => {
    expect(peerAddress('10.0.0.1')).toBe('10.0.0.1');
    expect(peerAddress('10.0.0.1:514')).toBe('10.0.0.1');
    expect(peerAddress('[fd93:1::5]:514')).toBe('fd93:1::5');
    expect(peerAddress('fd93:1::5')).toBe('fd93:1::5');
  });

  it('isoOf appends sub-millisecond digits', () => {
    expect(isoOf(0, '456')).toBe('1970-01-01T00:00:00.000456Z');
  });

  describe('JSON from shippers that wraps a raw line', () => {
    const normalise = createNormaliser({ agencies, defaultTimezone: 'Asia/Ho_Chi_Minh' });
    const http = (doc: unknown) =>
      record(JSON.stringify(doc), {
        transport: 'http',
        peer: '127.0.0.1:5000',
        agency: 'vp-ubnd',
        listener: 'http',
      });

    it('parses the line in `message` (Filebeat, Vector) with the envelope and source parsers', () => {
      const [event] = normalise([
        http({
          '@timestamp': '2024-06-01T04:59:30Z',
          message:
            '<38>Jun  1 11:59:00 bastion sshd[811]: Failed password for root from 203.0.113.5 port 2222 ssh2',
          log: { file: { path: '/var/log/auth.log' } },
        }),
      ]);
      expect(event).toMatchObject({
        '@timestamp': '2024-06-01T04:59:00.000Z',
        message: 'Failed password for root from 203.0.113.5 port 2222 ssh2',
        event: { action: 'ssh_login', outcome: 'failure', dataset: 'system.auth' },
        source: { ip: '203.0.113.5' },
        host: { hostname: 'bastion' },
        log: { file: { path: '/var/log/auth.log' } },
        agency: { id: 'vp-ubnd' },
      });
      expect(event!.tags ?? []).not.toContain('_parse_failure');
    });

    it('parses the line in `log` (Fluent Bit tail) and keeps the shipper time when the line has none', () => {
      const [event] = normalise([
        http({
          '@timestamp': '2024-06-01T04:59:30Z',
          log: 'sshd[9]: Accepted publickey for ops from 10.93.1.9 port 4022 ssh2',
        }),
      ]);
      expect(event).toMatchObject({
        '@timestamp': '2024-06-01T04:59:30.000Z',
        event: { action: 'ssh_login', outcome: 'success' },
        user: { name: 'ops' },
      });
    });

    it('leaves documents that classify themselves alone', () => {
      const [event] = normalise([
        http({
          message: 'sshd[9]: Failed password for x from 1.2.3.4 port 1 ssh2',
          event: { action: 'custom' },
        }),
      ]);
      expect(event!.event.action).toBe('custom');
      expect(event!.source).toBeUndefined();
    });
  });
});
