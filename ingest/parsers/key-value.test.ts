import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KeySelector, parseKeyValues, SelectedKeyValues, toInt } from './key-value.js';

const SELECTED = ['msg', 'srcip', 'srcport', 'eventtime', 'type', 'a', 'ab', 'ba'] as const;
const selector = new KeySelector(SELECTED);
const K = selector.index;
const scan = new SelectedKeyValues(selector);

describe('SelectedKeyValues', () => {
  it('reads quoted values with spaces and `=` inside, empty values and unknown keys', () => {
    scan.scan('type="traffic" msg="a b=c d" other="x y=z" srcip= a="" srcport=443 ab=q');
    expect(scan.get(K.type)).toBe('traffic');
    expect(scan.get(K.msg)).toBe('a b=c d');
    expect(scan.has(K.srcip)).toBe(true);
    expect(scan.get(K.srcip)).toBe('');
    expect(scan.filled(K.srcip)).toBe(false);
    expect(scan.get(K.a)).toBe('');
    expect(scan.int(K.srcport)).toBe(443);
    expect(scan.get(K.ab)).toBe('q');
    expect(scan.has(K.ba)).toBe(false);
    expect(scan.get(K.ba)).toBeUndefined();
    expect(scan.int(K.ba)).toBeUndefined();
    expect(scan.is(K.type, 'traffic')).toBe(true);
    expect(scan.is(K.type, 'traffi')).toBe(false);
    expect(scan.is(K.ba, '')).toBe(false);
  });

  it('keeps the first of a repeated key, runs an unterminated quote to the end, forgets the last line', () => {
    scan.scan("type=utm type=traffic msg='single quoted' srcip=\"10.0.0.1");
    expect(scan.get(K.type)).toBe('utm');
    expect(scan.get(K.msg)).toBe('single quoted');
    expect(scan.get(K.srcip)).toBe('10.0.0.1');
    scan.scan('srcport=1');
    expect(scan.has(K.type)).toBe(false);
    expect(scan.int(K.srcport)).toBe(1);
  });

  it('reads integers as toInt does, digits in place and anything else through Number', () => {
    for (const value of [
      '0',
      '007',
      '65535',
      '+5',
      '0x10',
      '1e3',
      '12.0',
      '-3',
      'abc',
      '',
      '9007199254740993',
    ]) {
      scan.scan(`srcport=${value}`);
      expect(scan.int(K.srcport), value).toBe(toInt(value));
    }
    scan.scan('srcport=" 7 "');
    expect(scan.int(K.srcport)).toBe(7);
  });

  it('cuts digits exactly: nanoseconds to milliseconds without rounding through a double', () => {
    scan.scan('eventtime=1718454601999999999');
    expect(scan.length(K.eventtime)).toBe(19);
    expect(scan.digits(K.eventtime, 6)).toBe(1718454601999);
    expect(Math.floor(Number('1718454601999999999') / 1e6)).toBe(1718454602000); // what it replaced
    scan.scan('eventtime=17184546019x9999999');
    expect(scan.digits(K.eventtime, 6)).toBeUndefined();
    scan.scan('eventtime=');
    expect(scan.digits(K.eventtime)).toBeUndefined();
    expect(scan.length(K.msg)).toBe(-1);
  });

  // The selected scan must agree with the general parser, bare words included (`ty pe=x`: `ty` is a word).
  const key = fc.constantFrom(...SELECTED, 'other', 'srcipx', 'b', 'typ', 'ty pe');
  const plain = fc.stringMatching(/^[^ "'=]*$/, { maxLength: 12 });
  const quoted = fc
    .oneof(fc.string({ maxLength: 16 }), fc.string({ unit: 'binary', maxLength: 8 }))
    // A trailing backslash would escape the closing quote (the escaped pairs below cover that case).
    .filter((value) => !value.includes('"') && !value.endsWith('\\'));
  // Any text, quotes and backslashes included, written with FortiGate's escapes.
  const escaped = fc.string({ unit: fc.constantFrom('a', ' ', '=', '"', "'", '\\', 'ư'), maxLength: 12 });
  const pair = fc.oneof(
    fc.tuple(key, plain).map(([k, v]) => `${k}=${v}`),
    fc.tuple(key, quoted).map(([k, v]) => `${k}="${v}"`),
    // Quotes taken out first, then the trailing backslash refused: `\'` would become a lone `\` escaping the
    // closing quote, a value left open that swallows the pair appended below.
    fc
      .tuple(
        key,
        quoted.map((v) => v.replaceAll("'", '')).filter((v) => !v.endsWith('\\')),
      )
      .map(([k, v]) => `${k}='${v}'`),
    fc.tuple(key, escaped).map(([k, v]) => `${k}="${v.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`),
  );
  // ASCII lines are scanned as bytes, others as a string: each line is also run with a non-ASCII pair
  // (an unselected key) appended, so both scans meet the same pairs.
  it('agrees with parseKeyValues on the selected keys, scanned as bytes or as a string (property)', () => {
    fc.assert(
      fc.property(fc.array(pair, { maxLength: 12 }), fc.constantFrom(' ', '  '), (pairs, separator) => {
        const line = pairs.join(separator);
        const all = parseKeyValues(line, 0, { escapes: true });
        for (const variant of [line, `${line} zz="Đăng nhập"`]) {
          scan.scan(variant);
          for (const name of SELECTED) {
            const expected = Object.hasOwn(all, name) ? all[name] : undefined;
            expect(scan.get(K[name])).toBe(expected);
            expect(scan.int(K[name])).toBe(toInt(expected));
            expect(scan.filled(K[name])).toBe(Boolean(expected));
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('reads backslash escapes in quoted values, so a quote inside a value cannot forge the next fields', () => {
    // A user name chosen by an attacker, with a quote and a fake srcip inside.
    const forged = 'user="x\\" srcip=6.6.6.6 \\\\" srcip=10.1.2.3 msg=\'it\\\'s\' type="C:\\temp"';
    for (const line of [forged, `${forged} zz="Đăng nhập"`]) {
      scan.scan(line);
      expect(scan.get(K.srcip)).toBe('10.1.2.3');
      expect(scan.get(K.msg)).toBe("it's");
      // A backslash before anything else is a backslash.
      expect(scan.get(K.type)).toBe('C:\\temp');
      expect(scan.is(K.type, 'C:\\temp')).toBe(true);
    }
    expect(parseKeyValues(forged, 0, { escapes: true })).toMatchObject({
      user: 'x" srcip=6.6.6.6 \\',
      srcip: '10.1.2.3',
    });
    // Without escapes (auditd, iptables), the quote ends the value as before.
    expect(parseKeyValues(forged).srcip).toBe('6.6.6.6');
  });

  it('scans a line longer than the byte scratch as a string, with the same result', () => {
    const long = `${'x'.repeat(70_000)}=1 srcport=9 msg="${'y'.repeat(10)}"`;
    scan.scan(long);
    expect(scan.int(K.srcport)).toBe(9);
    expect(scan.get(K.msg)).toBe('y'.repeat(10));
    scan.scan('srcport=10 msg="é"');
    expect(scan.int(K.srcport)).toBe(10);
    expect(scan.get(K.msg)).toBe('é');
  });
});

describe('SelectedKeyValues with bare words and without escapes (netfilter)', () => {
  const words = new KeySelector(['SYN', 'ACK', 'DF', 'abcdefghijklmn'] as const);
  const keys = new KeySelector(['SRC', 'LEN', 'S'] as const);
  const netfilter = new SelectedKeyValues(keys, { escapes: false, flags: words });

  it('keeps the selected bare words in order, repeats included, and reads a backslash as a character', () => {
    for (const tail of ['', ' zz="Đăng"']) {
      netfilter.scan(`SYN LEN=60 S="a\\" SYNX DF ACK SRC=1.2.3.4 abcdefghijklmn SYN=1 ACK${tail}`);
      const flags = Array.from({ length: netfilter.flagCount }, (_, i) => words.keys[netfilter.flag(i)]);
      expect(flags).toEqual(['SYN', 'DF', 'ACK', 'abcdefghijklmn', 'ACK']);
      expect(netfilter.get(keys.index.S)).toBe('a\\');
      expect(netfilter.get(keys.index.LEN)).toBe('60');
      expect(netfilter.get(keys.index.SRC)).toBe('1.2.3.4');
    }
    netfilter.scan('LEN=1');
    expect(netfilter.flagCount).toBe(0);
  });

  it('agrees with parseKeyValues(text, start, { flags }), scanned as bytes or as a string (property)', () => {
    const word = fc.oneof(
      fc.constantFrom('SYN', 'ACK', 'DF', 'SRC', 'LEN', 'S', 'SY', ''),
      fc.string({ maxLength: 3 }),
    );
    const value = fc.oneof(
      fc.constantFrom('"a b"', "'x=y'", '"open', 'a\\"b', '"\\"', '='),
      fc.string({ maxLength: 4 }),
    );
    const token = fc.oneof(
      word,
      fc.tuple(word, value).map(([k, v]) => `${k}=${v}`),
    );
    fc.assert(
      fc.property(
        fc.array(token, { maxLength: 12 }),
        fc.constantFrom(' ', '  '),
        fc.nat(3),
        (tokens, gap, at) => {
          const line = tokens.join(gap);
          for (const variant of [line, `${line} zz="Đăng nhập"`]) {
            const start = Math.min(at, variant.length);
            const flags: string[] = [];
            const all = parseKeyValues(variant, start, { flags });
            netfilter.scan(variant, start);
            for (const name of keys.keys) {
              expect(netfilter.get(keys.index[name])).toBe(Object.hasOwn(all, name) ? all[name] : undefined);
            }
            const read = Array.from({ length: netfilter.flagCount }, (_, i) => words.keys[netfilter.flag(i)]);
            expect(read).toEqual(flags.filter((flag) => (words.keys as readonly string[]).includes(flag)));
          }
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe('SelectedKeyValues, byte scan details', () => {
  it('matches whole keys only, whatever keys the line holds (property)', () => {
    // Short keys over three letters: many share a length and a first letter with a selected one.
    const selected = [
      'a',
      'ab',
      'ba',
      'abc',
      'cab',
      'bbbb',
      'abcab',
      'abcabcabcabcab',
      'bcabcabcabcab',
    ] as const;
    const small = new KeySelector(selected);
    const smallScan = new SelectedKeyValues(small);
    const anyKey = fc.oneof(fc.stringMatching(/^[abc]{1,6}$/), fc.stringMatching(/^[abc]{0,3}(abc){4}a?b?$/));
    fc.assert(
      fc.property(fc.array(fc.tuple(anyKey, fc.nat(999)), { maxLength: 20 }), (pairs) => {
        const line = pairs.map(([k, v]) => `${k}=${v}`).join(' ');
        const all = parseKeyValues(line, 0, { escapes: true });
        smallScan.scan(line);
        for (const name of selected) {
          expect(smallScan.get(small.index[name])).toBe(Object.hasOwn(all, name) ? all[name] : undefined);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('tells apart long keys that end with the same 12 bytes', () => {
    const long = new KeySelector(['axxxxxxxxxxxx', 'baxxxxxxxxxxxx', 'cxxxxxxxxxxxx'] as const);
    const longScan = new SelectedKeyValues(long);
    longScan.scan('dxxxxxxxxxxxx=1 bbxxxxxxxxxxxx=2 baxxxxxxxxxxxx=3 axxxxxxxxxxxx=4 xxxxxxxxxxxx=5');
    expect(longScan.get(long.index.axxxxxxxxxxxx)).toBe('4');
    expect(longScan.get(long.index.baxxxxxxxxxxxx)).toBe('3');
    expect(longScan.has(long.index.cxxxxxxxxxxxx)).toBe(false);
  });

  it('reads numbers right after another instance has scanned a line of its own', () => {
    const other = new SelectedKeyValues(selector);
    scan.scan('srcport=443 eventtime=1718454601999');
    // Same length, other digits at the same places: the bytes both scans were read from are now these.
    other.scan('srcport=999 eventtime=2222222222222');
    expect(scan.int(K.srcport)).toBe(443);
    expect(scan.digits(K.eventtime, 3)).toBe(1718454601);
    expect(other.int(K.srcport)).toBe(999);
  });
});

describe('KeySelector', () => {
  it('numbers each key once and matches only whole selected keys', () => {
    const keys = new KeySelector(['a', 'ab', 'a'] as const);
    expect(keys.keys).toEqual(['a', 'ab']);
    expect(keys.index).toEqual({ a: 0, ab: 1 });
    expect(keys.match('xab=1', 1, 3)).toBe(1);
    expect(keys.match('ac=1', 0, 2)).toBe(-1);
    expect(keys.match('é=1', 0, 1)).toBe(-1);
    expect(() => new KeySelector([''])).toThrow();
  });
});
