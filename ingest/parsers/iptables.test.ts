import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type EcsEvent, isIpAddress } from '../ecs.js';
import { iptablesParser } from './iptables.js';
import { parseKeyValues, toInt } from './key-value.js';

const KEYS = [
  'IN',
  'OUT',
  'SRC',
  'SPT',
  'DST',
  'DPT',
  'MAC',
  'PROTO',
  'LEN',
  'TOS',
  'PREC',
  'TTL',
  'ID',
  'WINDOW',
  'RES',
  'URGP',
  'TC',
  'HOPLIMIT',
  'FLOWLBL',
  'TYPE',
  'CODE',
  'MARK',
];
const COPIED = KEYS.slice(8);
const TCP_FLAGS = ['SYN', 'ACK', 'FIN', 'RST', 'PSH', 'URG', 'ECE', 'CWR'];

function parse(message: string): EcsEvent {
  const event: EcsEvent = {
    '@timestamp': '2024-01-01T00:00:00.000Z',
    event: { id: 'x', ingested: '2024-01-01T00:00:00.000Z', original: message },
    agency: { id: 'unknown' },
  };
  expect(iptablesParser.parse(message, event, { format: 'rfc3164', message }).status).toBe('parsed');
  return event;
}

/**
 * What the parser must read from the key list, from parseKeyValues (the general scanner, not the selected
 * scan the parser uses) and the mapping written out again: the reference.
 */
function reference(text: string, start: number) {
  const flags: string[] = [];
  const fields = parseKeyValues(text, start, { flags });
  const iptables: Record<string, unknown> = {};
  for (const key of COPIED) if (fields[key] !== undefined) iptables[key.toLowerCase()] = fields[key];
  const tcpFlags = flags.filter((flag) => TCP_FLAGS.includes(flag));
  if (tcpFlags.length > 0) iptables.tcp = { flags: tcpFlags };
  if (flags.includes('DF')) iptables.fragment_flags = 'DF';
  const source: Record<string, unknown> = {};
  if (fields.SRC) {
    if (isIpAddress(fields.SRC)) source.ip = fields.SRC;
    else source.domain = fields.SRC;
    const port = toInt(fields.SPT);
    if (port !== undefined && port <= 65535) source.port = port;
  }
  const destination: Record<string, unknown> = {};
  if (fields.DST) {
    destination.ip = fields.DST;
    const port = toInt(fields.DPT);
    if (port !== undefined) destination.port = port;
  }
  const network: Record<string, unknown> = {};
  if (fields.PROTO) network.transport = fields.PROTO.toLowerCase();
  if (fields.SRC) network.type = fields.SRC.includes(':') ? 'ipv6' : 'ipv4';
  if (toInt(fields.LEN) !== undefined) network.bytes = toInt(fields.LEN);
  const observer: Record<string, unknown> = { type: 'firewall' };
  if (fields.IN) observer.ingress = { interface: { name: fields.IN } };
  if (fields.OUT) observer.egress = { interface: { name: fields.OUT } };
  return {
    iptables,
    observer,
    source: fields.SRC ? source : undefined,
    destination: fields.DST ? destination : undefined,
    network,
  };
}

const read = (event: EcsEvent) => ({
  iptables: event.iptables,
  observer: event.observer,
  source: event.source,
  destination: event.destination,
  network: event.network,
});

describe('iptables parser: the key list', () => {
  it('reads a UFW line: the first of a repeated key, flags in order, the MAC split', () => {
    const line =
      '[UFW BLOCK] IN=eth0 OUT= MAC=00:16:3e:5a:10:22:00:1c:58:29:4a:c1:08:00 SRC=198.18.0.1 DST=10.0.0.1 ' +
      'LEN=60 TOS=0x00 TTL=52 ID=1 DF PROTO=TCP SPT=40000 DPT=22 WINDOW=64240 RES=0x00 ACK PSH URGP=0 LEN=40 ID=2';
    const event = parse(line);
    const expected = reference(line, line.indexOf('IN='));
    expect(read(event)).toEqual({
      ...expected,
      source: { ...expected.source, mac: '00-1C-58-29-4A-C1' },
      destination: { ...expected.destination, mac: '00-16-3E-5A-10-22' },
    });
    expect(event.iptables).toMatchObject({
      len: '60',
      id: '1',
      tcp: { flags: ['ACK', 'PSH'] },
      fragment_flags: 'DF',
    });
    expect(event.rule).toEqual({ name: '[UFW BLOCK]' });
  });

  it('reads what parseKeyValues reads, on generated lines, scanned as bytes or as a string', () => {
    const word = fc.oneof(
      fc.constantFrom(...KEYS, ...TCP_FLAGS, 'DF', 'SYNACK', 'S', 'INX', '__proto__', 'constructor', ''),
      fc.string({ maxLength: 4 }),
    );
    const value = fc.oneof(
      fc.constantFrom(
        '',
        '1',
        'eth0',
        '198.18.0.1',
        '"a b"',
        "'x=y'",
        '"open',
        'a"b',
        '=',
        'SYN',
        '"a\\"',
        '\\',
      ),
      fc.string({ maxLength: 5 }),
    );
    const token = fc.oneof(
      word,
      fc.tuple(word, value).map(([key, v]) => `${key}=${v}`),
    );
    fc.assert(
      fc.property(fc.array(token, { maxLength: 14 }), fc.constantFrom(' ', '  '), (tokens, gap) => {
        // The line opens with the interfaces, so that the parser finds its key list at 0 whatever follows.
        const line = `IN=eth0 OUT=${gap}${tokens.join(gap)}`;
        // Non-ASCII lines are scanned as a string, the others as bytes: each line is run both ways.
        for (const variant of [line, `${line} zz="Đăng nhập"`]) {
          expect(read(parse(variant))).toEqual(reference(variant, 0));
        }
      }),
      { numRuns: 3000, seed: 20261126 },
    );
  });
});
