import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SyslogFramer } from './syslog-framer.js';

function frames(chunks: (string | Buffer)[], max = 1024): { frames: [string, boolean][]; error?: string } {
  const out: [string, boolean][] = [];
  const framer = new SyslogFramer(max, (text, truncated) => out.push([text, truncated]));
  for (const chunk of chunks) {
    const error = framer.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    if (error) return { frames: out, error };
  }
  framer.end();
  return { frames: out };
}

const octet = (message: string) => `${Buffer.byteLength(message)} ${message}`;

describe('SyslogFramer', () => {
  it('splits non-transparent frames on LF, CRLF and NUL', () => {
    expect(frames(['<13>a\n<13>b\r\n<13>c\u0000<13>d\n']).frames).toEqual([
      ['<13>a', false],
      ['<13>b', false],
      ['<13>c', false],
      ['<13>d', false],
    ]);
  });

  it('reads octet-counted frames, including UTF-8 counted in bytes and LF inside the message', () => {
    const a = '<14>1 - h app - - - héllo\nsecond line';
    const b = '<14>Oct 11 22:14:15 h app: x';
    expect(frames([octet(a) + octet(b)]).frames).toEqual([
      [a, false],
      [b, false],
    ]);
  });

  it('detects the framing per frame, so a sender may mix them', () => {
    expect(frames([`<13>lf one\n${octet('<13>counted')}<13>lf two\n`]).frames.map((f) => f[0])).toEqual([
      '<13>lf one',
      '<13>counted',
      '<13>lf two',
    ]);
  });

  it('reassembles frames split across chunks at any byte', () => {
    const stream = `${octet('<13>first message')}<13>second\n${octet('<13>third')}`;
    for (let cut = 1; cut < stream.length; cut++) {
      const result = frames([stream.slice(0, cut), stream.slice(cut)]);
      expect(result.frames.map((f) => f[0])).toEqual(['<13>first message', '<13>second', '<13>third']);
    }
  });

  it('does not mistake a line starting with digits for an octet count', () => {
    expect(frames(['2024-01-05T10:00:00Z host app: x\n123 apples\n']).frames.map((f) => f[0])).toEqual([
      '2024-01-05T10:00:00Z host app: x',
      '123 apples',
    ]);
  });

  it('truncates an over-long octet-counted frame, flags it and resynchronises on the next frame', () => {
    const long = `<13>${'x'.repeat(300)}`;
    const result = frames([octet(long).slice(0, 100), octet(long).slice(100) + octet('<13>next')], 64);
    expect(result.frames).toEqual([
      [long.slice(0, 64), true],
      ['<13>next', false],
    ]);
  });

  it('truncates an over-long LF line, flags it and drops the rest of that line only', () => {
    const long = `<13>${'y'.repeat(500)}`;
    const result = frames([long.slice(0, 200), long.slice(200), '\n<13>after\n'], 64);
    expect(result.frames).toEqual([
      [long.slice(0, 64), true],
      ['<13>after', false],
    ]);
  });

  it('keeps a last message with no delimiter at end of stream', () => {
    expect(frames(['<13>a\n<13>no newline']).frames).toEqual([
      ['<13>a', false],
      ['<13>no newline', false],
    ]);
  });

  it('reports binary data at a frame start as garbage', () => {
    const tlsHello = Buffer.from([0x16, 0x03, 0x01, 0x00, 0xa5, 0x01]);
    expect(frames([tlsHello]).error).toMatch(/0x16/);
    expect(frames(['<13>ok\n', Buffer.from([0x01, 0x02])]).frames).toEqual([['<13>ok', false]]);
  });

  it('holds at most about one message of bytes for an unfinished frame', () => {
    const framer = new SyslogFramer(64, () => {});
    for (let i = 0; i < 100; i++) framer.push(Buffer.from('z'.repeat(50)));
    expect(framer.bufferedBytes).toBeLessThanOrEqual(64 + 50);
  });

  it('ends each LF-framed message at its first LF or NUL however the stream is cut into chunks', () => {
    const message = fc
      .string({ unit: fc.constantFrom('a', 'b', ' ', '\r'), maxLength: 12 })
      .map((m) => `<13>${m}`);
    const delimiter = fc.constantFrom('\n', '\u0000', '\r\n', '\u0000\u0000', '\n\u0000');
    fc.assert(
      fc.property(
        fc.array(fc.tuple(message, delimiter), { minLength: 1, maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        (pairs, cuts) => {
          const stream = Buffer.from(pairs.map(([m, d]) => m + d).join(''));
          const at = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
          const chunks = [0, ...at].map((from, i) => stream.subarray(from, at[i] ?? stream.length));
          // A frame is what precedes its first LF or NUL, less one trailing CR (CRLF's, or the message's own).
          const expected = pairs.map(([m, d]): [string, boolean] => {
            const text = d.startsWith('\r') ? `${m}\r` : m;
            return [text.endsWith('\r') ? text.slice(0, -1) : text, false];
          });
          expect(frames(chunks).frames).toEqual(expected);
        },
      ),
      { numRuns: 500 },
    );
  });
});
