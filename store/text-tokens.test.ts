import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ELASTICSEARCH_URL } from '../test/support/services.js';
import { textTerms, textTokens } from './text-tokens.js';

/** Tokens of the real node's `standard` analyzer, one list per input text. */
async function standardTokens(texts: string[]): Promise<string[][]> {
  const results: string[][] = [];
  for (let start = 0; start < texts.length; start += 16) {
    results.push(...(await Promise.all(texts.slice(start, start + 16).map(analyze))));
  }
  return results;
}

async function analyze(text: string): Promise<string[]> {
  const response = await fetch(`${ELASTICSEARCH_URL}/_analyze?filter_path=tokens.token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ analyzer: 'standard', text }),
  });
  if (!response.ok) throw new Error(`_analyze failed: ${response.status} ${await response.text()}`);
  const body = (await response.json()) as { tokens?: { token: string }[] };
  return (body.tokens ?? []).map((token) => token.token);
}

const samples = [
  'sshd[4123]: Failed password for invalid user admin from 203.0.113.5 port 52211 ssh2',
  "foo:bar a.b 1.2.3.4 x_y O'Reilly 1,000 a,b 3.5a a1.b2 .net foo. _x_ __ 12:30:45 v1.2-beta",
  'user@example.com http://a.b/c?d=e&f=g 2001:db8::1 fe80::1%eth0 a--b C:\\Windows\\System32',
  'Đăng nhập THẤT BẠI cho người dùng quản trị viên từ 10.1.2.3',
  'Ủy ban nhân dân tỉnh Hậu Giang — Sở Thông tin và Truyền thông',
  'ΣΑΣ İstanbul ǅ Straße 東京都 😀 x',
  `${'a'.repeat(300)} ${'1'.repeat(256)}`,
];

describe('textTokens matches the standard analyzer', () => {
  it('on log lines, Vietnamese text and edge cases', async () => {
    const expected = await standardTokens(samples);
    samples.forEach((text, i) => {
      expect(textTokens(text), text).toEqual(expected[i]);
    });
  });

  it('on generated ASCII and Vietnamese strings', async () => {
    const alphabet = fc.constantFrom(
      ...'aZ09_:.\',; -/@[]()"\\'.split(''),
      'ă',
      'Đ',
      'ế',
      'ọ',
      'ư',
      'ơ',
      'Ậ',
      'e\u0301',
      '\u00b7',
    );
    const texts = fc.sample(
      fc.array(alphabet, { maxLength: 24 }).map((chars) => chars.join('')),
      {
        numRuns: 300,
        seed: 20250301,
      },
    );
    const expected = await standardTokens(texts);
    texts.forEach((text, i) => {
      expect(textTokens(text), JSON.stringify(text)).toEqual(expected[i]);
    });
  });
});

describe('textTerms', () => {
  it("is the standard analyzer's tokens joined by spaces, long tokens split as it splits them", async () => {
    const texts = [
      ...samples,
      `${'A'.repeat(255)} ${'b'.repeat(256)} ${'C'.repeat(510)}x ${'9'.repeat(766)}`,
      `_${'_'.repeat(300)} a ${'Z'.repeat(200)}.b`,
      `x${'y'.repeat(5000)}`, // longer than the buffer a first call makes
      '',
      ' ',
      '__ _',
      'MiXeD Case 1.2.3 a:b',
    ];
    const expected = await standardTokens(texts);
    texts.forEach((text, i) => {
      expect(textTerms(text), JSON.stringify(text)).toBe(expected[i]!.join(' '));
    });
  });

  // ASCII text is tokenized by textTerms itself (textTokens splits its string); this covers the rest.
  it('on generated strings, with characters outside ASCII', () => {
    const alphabet = fc.constantFrom(...'aZ09_:.\',; -=/@[]()"\\\t'.split(''), 'ă', 'Đ', '\u00b7', '東');
    fc.assert(
      fc.property(
        fc.array(alphabet, { maxLength: 600 }).map((chars) => chars.join('')),
        (text) => textTerms(text) === textTokens(text).join(' '),
      ),
      { numRuns: 2000, seed: 20261126 },
    );
  });
});
