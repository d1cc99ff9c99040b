import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NO_PIPELINE, ruleSetFromText } from '../index.js';
import { expandDottedKeys } from './event-view.js';

/** A rule around a detection section (indented YAML), compiled with rule field names as written. */
function compile(detection: string) {
  const text = `title: T
id: 11111111-1111-4111-8111-111111111111
logsource: {product: test}
detection:
${detection.replace(/^/gm, '  ')}
`;
  const { ruleSet, problems } = ruleSetFromText(text, { pipeline: NO_PIPELINE });
  if (problems.length > 0) throw new Error(problems.map((p) => `${p.line}: ${p.message}`).join('\n'));
  return (event: Record<string, unknown>) => ruleSet.match(event as never).length === 1;
}

function problemOf(detection: string): string {
  try {
    compile(detection);
  } catch (error) {
    return (error as Error).message;
  }
  return 'no problem';
}

describe('selections', () => {
  it('ANDs the fields of a map, ORs a list of maps and the values of a list', () => {
    const m = compile(`sel:
  - a: 1
    b: [x, y]
  - c: z
condition: sel`);
    expect(m({ a: 1, b: 'y' })).toBe(true);
    expect(m({ a: 1, b: 'w' })).toBe(false);
    expect(m({ b: 'x' })).toBe(false);
    expect(m({ c: 'Z' })).toBe(true);
  });

  it('matches case-insensitively on the whole value by default, numbers against strings', () => {
    const m = compile(`sel:
  Image: 'C:\\Windows\\System32\\CMD.exe'
  EventID: 4625
condition: sel`);
    expect(m({ Image: 'c:\\windows\\system32\\cmd.exe', EventID: '4625' })).toBe(true);
    expect(m({ Image: 'c:\\windows\\system32\\cmd.exe', EventID: 4625 })).toBe(true);
    expect(m({ Image: 'c:\\windows\\system32\\cmd.exe.bak', EventID: 4625 })).toBe(false);
  });

  it('reads dotted paths through nested objects and arrays; flat dotted keys once expanded', () => {
    const m = compile(`sel:
  source.ip: 203.0.113.5
  user.roles: admin
condition: sel`);
    expect(m({ source: { ip: '203.0.113.5' }, user: { roles: ['dev', 'Admin'] } })).toBe(true);
    expect(
      m(expandDottedKeys({ 'source.ip': '203.0.113.5', user: [{ roles: 'x' }, { roles: 'admin' }] })),
    ).toBe(true);
    expect(expandDottedKeys({ 'a.b': 1, a: { c: 2 }, 'd.e.f': [{ 'g.h': 3 }] })).toEqual({
      a: { b: 1, c: 2 },
      d: { e: { f: [{ g: { h: 3 } }] } },
    });
    expect(m({ source: { ip: '203.0.113.6' }, user: { roles: 'admin' } })).toBe(false);
  });

  it('treats null as absent-or-null and empty string as present-and-empty', () => {
    const absent = compile(`sel:
  a: null
condition: sel`);
    expect(absent({})).toBe(true);
    expect(absent({ a: null })).toBe(true);
    expect(absent({ a: '' })).toBe(false);
    const empty = compile(`sel:
  a: ''
condition: sel`);
    expect(empty({ a: '' })).toBe(true);
    expect(empty({})).toBe(false);
    expect(empty({ a: 'x' })).toBe(false);
  });

  it('searches keywords anywhere in the event text, OR by default and AND with all', () => {
    const any = compile(`keywords:
  - 'iptables -F'
  - 'ufw disable'
condition: keywords`);
    expect(any({ message: 'root ran: iptables -F now' })).toBe(true);
    expect(any({ message: 'nothing here' })).toBe(false);
    const all = compile(`keywords:
  '|all':
    - foo
    - bar
condition: keywords`);
    expect(all({ message: 'bar and FOO' })).toBe(true);
    expect(all({ message: 'only foo' })).toBe(false);
  });
});

describe('wildcards and escapes', () => {
  it('matches * and ? and treats backslash as literal except before * ? and itself', () => {
    const m = compile(`sel:
  a: 'C:\\Temp\\*'
  b: 'ab?d*x'
condition: sel`);
    expect(m({ a: 'C:\\Temp*', b: 'abcdzzx' })).toBe(true);
    expect(m({ a: 'C:\\Temp\\file', b: 'abcdzzx' })).toBe(false);
    expect(m({ a: 'C:\\Temp*', b: 'abdzzx' })).toBe(false);
    const star = compile(`sel:
  a: 'x*y*z'
condition: sel`);
    expect(star({ a: 'xAAyBBz' })).toBe(true);
    expect(star({ a: 'xyz' })).toBe(true);
    expect(star({ a: 'xzy' })).toBe(false);
  });
});

describe('modifiers', () => {
  it('contains, startswith, endswith, with all over the values', () => {
    const m = compile(`sel:
  CommandLine|contains|all: [' -enc ', 'hidden']
  Image|endswith: '\\powershell.exe'
  User|startswith: 'NT AUTHORITY'
condition: sel`);
    const event = {
      CommandLine: 'powershell -w HIDDEN -enc AAAA',
      Image: 'C:\\x\\PowerShell.exe',
      User: 'nt authority\\system',
    };
    expect(m(event)).toBe(true);
    expect(m({ ...event, CommandLine: 'powershell -enc AAAA' })).toBe(false);
    expect(m({ ...event, Image: 'C:\\x\\powershell.exe.txt' })).toBe(false);
  });

  it('cased makes the comparison case-sensitive', () => {
    const m = compile(`sel:
  a|cased|contains: Secret
condition: sel`);
    expect(m({ a: 'my Secret' })).toBe(true);
    expect(m({ a: 'my secret' })).toBe(false);
  });

  it('re searches with RE2 semantics, case-sensitive unless i', () => {
    const m = compile(`sel:
  a|re: '^ab+c$'
condition: sel`);
    expect(m({ a: 'abbbc' })).toBe(true);
    expect(m({ a: 'ABBC' })).toBe(false);
    const i = compile(`sel:
  a|re|i: 'b+c'
condition: sel`);
    expect(i({ a: 'xxABBC' })).toBe(true);
    expect(problemOf(`sel:\n  a|re: '(?=x)y'\ncondition: sel`)).toMatch(/lookaround is not supported/);
  });

  it('a catastrophic-backtracking pattern runs in linear time', () => {
    const m = compile(`sel:
  a|re: '^(a+)+$'
condition: sel`);
    const started = performance.now();
    expect(m({ a: `${'a'.repeat(30_000)}!` })).toBe(false);
    // A backtracking engine needs ~2^30000 steps here; RE2 answers in milliseconds.
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it('windash expands the dash at the start of a word to its five variants', () => {
    const m = compile(`sel:
  a|windash|contains: ' -exec bypass'
condition: sel`);
    expect(m({ a: 'powershell -exec bypass' })).toBe(true);
    expect(m({ a: 'powershell /exec bypass' })).toBe(true);
    expect(m({ a: 'powershell \u2013exec bypass' })).toBe(true);
    expect(m({ a: 'powershell \u2015exec bypass' })).toBe(true);
    expect(m({ a: 'powershell +exec bypass' })).toBe(false);
  });

  it('base64 and base64offset find encoded text, utf16 variants first', () => {
    const plain = compile(`sel:
  a|base64: 'http://'
condition: sel`);
    expect(plain({ a: Buffer.from('http://').toString('base64') })).toBe(true);
    const offset = compile(`sel:
  a|base64offset|contains: 'Invoke-Mimikatz'
condition: sel`);
    for (const prefix of ['', 'x', 'xy', 'xyz']) {
      expect(offset({ a: `cmd ${Buffer.from(`${prefix}Invoke-Mimikatz -Dump`).toString('base64')}` })).toBe(
        true,
      );
    }
    expect(offset({ a: Buffer.from('Invoke-Something').toString('base64') })).toBe(false);
    const wide = compile(`sel:
  a|wide|base64offset|contains: 'ping'
condition: sel`);
    expect(wide({ a: Buffer.from('xping 1.1.1.1', 'utf16le').toString('base64') })).toBe(true);
    expect(problemOf(`sel:\n  a|utf16le: x\ncondition: sel`)).toMatch(/followed by base64/);
  });

  it('cidr matches IPv4 and IPv6 networks and refuses host bits', () => {
    const m = compile(`sel:
  ip|cidr: ['10.0.0.0/8', '2001:db8::/32']
condition: sel`);
    expect(m({ ip: '10.1.2.3' })).toBe(true);
    expect(m({ ip: '2001:db8::1' })).toBe(true);
    expect(m({ ip: '11.0.0.1' })).toBe(false);
    expect(m({ ip: 'not an ip' })).toBe(false);
    expect(problemOf(`sel:\n  ip|cidr: 10.0.0.1/8\ncondition: sel`)).toMatch(/host bits set/);
  });

  it('numeric comparisons, exists, neq and fieldref', () => {
    const m = compile(`sel:
  port|gte: 1024
  port|lt: 2000
  user|exists: true
  user|neq: root
  target|fieldref: user
condition: sel`);
    expect(m({ port: '1500', user: 'bob', target: 'BOB' })).toBe(true);
    expect(m({ port: 80, user: 'bob', target: 'bob' })).toBe(false);
    expect(m({ port: 1500, user: 'root', target: 'root' })).toBe(false);
    expect(m({ port: 1500, target: 'x' })).toBe(false);
    expect(m({ port: 1500, user: 'bob', target: 'alice' })).toBe(false);
  });

  it('refuses illegal chains with a reason', () => {
    expect(problemOf(`sel:\n  a|contains|startswith: x\ncondition: sel`)).toMatch(/only one of/);
    expect(problemOf(`sel:\n  a|i: x\ncondition: sel`)).toMatch(/must follow 're'/);
    expect(problemOf(`sel:\n  a|contains|re: x\ncondition: sel`)).toMatch(/must come first/);
    expect(problemOf(`sel:\n  a|gt: abc\ncondition: sel`)).toMatch(/needs a number/);
    expect(problemOf(`sel:\n  a|exists: maybe\ncondition: sel`)).toMatch(/true or false/);
  });
});

describe('long contains lists (one automaton per field)', () => {
  // Characters chosen to stress case folding: ASCII, Greek sigma forms, Turkish dotted I, an emoji.
  const char = fc.constantFrom('a', 'B', 'c', ' ', 'Σ', 'σ', 'ς', 'İ', 'i', '🔸', 'Ä', 'ä', '-');
  const text = (min: number, max: number) =>
    fc.array(char, { minLength: min, maxLength: max }).map((chars) => chars.join(''));
  const quoted = (s: string) => `'${s.replace(/'/g, "''")}'`;

  it('answers as one includes per value would, mixed with a short list and other tests', () => {
    fc.assert(
      fc.property(
        fc.array(text(1, 4), { minLength: 8, maxLength: 20 }),
        fc.array(fc.oneof(text(0, 12), fc.array(text(0, 8), { maxLength: 3 })), {
          minLength: 1,
          maxLength: 8,
        }),
        (literals, values) => {
          const m = compile(`long:
  f|contains:
${literals.map((l) => `    - ${quoted(l)}`).join('\n')}
short:
  g|contains: ['ab', 'σς']
exact:
  f: 'cc'
condition: long or short or exact`);
          const holds = (value: unknown, test: (s: string) => boolean) =>
            (Array.isArray(value) ? value : [value]).some((v) => test(String(v).toLowerCase()));
          for (const value of values) {
            const expected =
              holds(value, (v) => literals.some((l) => v.includes(l.toLowerCase()))) ||
              holds(value, (v) => v === 'cc');
            expect(m({ f: value })).toBe(expected);
            expect(m({ g: value })).toBe(holds(value, (v) => v.includes('ab') || v.includes('σς')));
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('keeps a long list of one field apart from another field, and negation', () => {
    const values = Array.from({ length: 10 }, (_, i) => `w${i}x`);
    const m = compile(`sel:
  - f|contains: [${values.join(', ')}]
  - g|contains: [${values.join(', ')}]
filter:
  f|contains: [skip, ignore, drop, omit, pass, leave, exclude, bypass]
condition: sel and not filter`);
    expect(m({ f: 'AW3X' })).toBe(true);
    expect(m({ g: ['zz', 'a w9x b'] })).toBe(true);
    expect(m({ h: 'w1x' })).toBe(false);
    expect(m({ f: 'w1x bypass' })).toBe(false);
    expect(m({ f: 'w1x', g: 'OMIT' })).toBe(true);
  });
});

describe('conditions', () => {
  it('evaluates precedence as (a∧¬b)∨(¬c∧d)', () => {
    const m = compile(`a: {a: 1}
b: {b: 1}
c: {c: 1}
d: {d: 1}
condition: a and not b or not c and d`);
    expect(m({ a: 1 })).toBe(true);
    expect(m({ a: 1, b: 1, c: 1 })).toBe(false);
    expect(m({ a: 1, b: 1, d: 1 })).toBe(true);
    expect(m({ c: 1, d: 1 })).toBe(false);
    expect(m({ d: 1 })).toBe(true);
  });

  it('1 of / all of over patterns and them, skipping underscore names in them', () => {
    const one = compile(`sel_a: {a: 1}
sel_b: {b: 1}
_helper: {h: 1}
condition: 1 of them`);
    expect(one({ b: 1 })).toBe(true);
    expect(one({ h: 1 })).toBe(false);
    const all = compile(`sel_a: {a: 1}
sel_b: {b: 1}
filter: {f: 1}
condition: all of sel_* and not filter`);
    expect(all({ a: 1, b: 1 })).toBe(true);
    expect(all({ a: 1 })).toBe(false);
    expect(all({ a: 1, b: 1, f: 1 })).toBe(false);
  });

  it('a list of conditions means any of them', () => {
    const m = compile(`a: {a: 1}
b: {b: 1}
condition:
  - a
  - b`);
    expect(m({ b: 1 })).toBe(true);
    expect(m({ c: 1 })).toBe(false);
  });
});
