import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { scanNetfilter } from './iptables.js';
import { parseKeyValues } from './key-value.js';

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
const TCP_FLAGS = ['SYN', 'ACK', 'FIN', 'RST', 'PSH', 'URG', 'ECE', 'CWR'];

/** What parseNetfilter read from parseKeyValues before scanNetfilter: the reference. */
function reference(text: string, start: number) {
  const flags: string[] = [];
  const fields = parseKeyValues(text, start, { flags });
  return {
    values: KEYS.map((key) => fields[key]),
    tcpFlags: flags.filter((flag) => TCP_FLAGS.includes(flag)),
    dontFragment: flags.includes('DF'),
  };
}

describe('scanNetfilter', () => {
  it('reads a netfilter line', () => {
    const line =
      '[UFW BLOCK] IN=eth0 OUT= MAC=00:11 SRC=198.18.0.1 DST=10.0.0.1 LEN=60 TOS=0x00 TTL=52 ID=1 DF ' +
      'PROTO=TCP SPT=40000 DPT=22 WINDOW=64240 RES=0x00 SYN URGP=0 LEN=40 ID=2';
    const start = line.indexOf('IN=');
    expect(scanNetfilter(line, start)).toEqual(reference(line, start));
    expect(scanNetfilter(line, start).values[KEYS.indexOf('LEN')]).toBe('60');
  });

  it('reads what parseKeyValues read, on generated lines', () => {
    const word = fc.oneof(
      fc.constantFrom(...KEYS, ...TCP_FLAGS, 'DF', 'SYNACK', 'S', 'INX', '__proto__', 'constructor', ''),
      fc.string({ maxLength: 4 }),
    );
    const value = fc.oneof(
      fc.constantFrom('', '1', 'eth0', '198.18.0.1', '"a b"', "'x=y'", '"open', 'a"b', '=', 'SYN'),
      fc.string({ maxLength: 5 }),
    );
    const token = fc.oneof(
      word,
      fc.tuple(word, value).map(([key, v]) => `${key}=${v}`),
    );
    fc.assert(
      fc.property(
        fc.array(token, { maxLength: 14 }),
        fc.constantFrom(' ', '  '),
        fc.nat(3),
        (tokens, gap, start) => {
          const line = tokens.join(gap);
          const from = Math.min(start, line.length);
          expect(scanNetfilter(line, from)).toEqual(reference(line, from));
        },
      ),
      { numRuns: 3000, seed: 20261126 },
    );
  });
});
