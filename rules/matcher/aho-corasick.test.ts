import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AhoCorasick, FoundWords } from './aho-corasick.js';

let epoch = 0;
function found(automaton: AhoCorasick, text: string): number[] {
  const seen = new Uint32Array(automaton.size);
  epoch++;
  const ids = new FoundWords(automaton.size);
  if (!automaton.scan(text, seen, epoch, ids)) automaton.scanLowerCase(text.toLowerCase(), seen, epoch, ids);
  return ids.list().sort((a, b) => a - b);
}

describe('Aho–Corasick automaton', () => {
  it('finds overlapping and nested words', () => {
    const words = ['he', 'she', 'his', 'hers', 'powershell', 'shell', '-enc'];
    const automaton = new AhoCorasick(words);
    expect(found(automaton, 'ushers')).toEqual([0, 1, 3]);
    expect(found(automaton, 'powershell.exe -enc aaa')).toEqual([0, 1, 4, 5, 6]);
    expect(found(automaton, 'nothing')).toEqual([]);
  });

  it('compares case-insensitively, lower-casing non-ASCII text only when it must', () => {
    const automaton = new AhoCorasick(['powershell', 'đăng nhập', 'σς', 'k']);
    expect(found(automaton, 'C:\\Windows\\PowerShell.EXE')).toEqual([0]);
    // Non-ASCII upper case (Vietnamese Đ, Ậ) needs the full lower-casing; the result is the same.
    const seen = new Uint32Array(automaton.size);
    expect(automaton.scan('ĐĂNG NHẬP', seen, 1, new FoundWords(automaton.size))).toBe(false);
    expect(found(automaton, 'ĐĂNG NHẬP thất bại')).toEqual([1]);
    expect(found(automaton, 'đăng nhập')).toEqual([1]);
    // Final sigma depends on context: only the whole string's lower-casing gets it right.
    expect('ΣΣ'.toLowerCase()).toBe('σς');
    expect(found(automaton, 'ΣΣ')).toEqual([2]);
    // The Kelvin sign lower-cases to an ASCII k.
    expect(found(automaton, '\u212a')).toEqual([3]);
  });

  it('agrees with indexOf on the lower-cased text, for random words and texts', () => {
    const unit = fc.constantFrom('a', 'b', 'c', 'A', 'ư', 'Ư', '\\', 'σ', 'Σ', 'ς', 'i', 'İ', '\u{10428}');
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit, minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 12 }),
        fc.string({ unit: fc.oneof(unit, fc.constant(' ')), maxLength: 40 }),
        (raw, text) => {
          const words = raw.map((w) => w.toLowerCase());
          const lower = text.toLowerCase();
          const expected = words.map((w, i) => (lower.includes(w) ? i : -1)).filter((i) => i >= 0);
          // Duplicate words report the first id only.
          const firstIds = expected.filter((i) => words.indexOf(words[i]!) === i);
          expect(found(new AhoCorasick(words), text)).toEqual(firstIds);
        },
      ),
    );
  });
  // Words longer than the dense rows' depth end in deep states (trie edges and failure links): long words
  // over a small alphabet share prefixes and overlap, so deep states fail to other deep states, branch,
  // and report words that are suffixes of their own.
  it("agrees with indexOf for long, overlapping words, in every scan and at the text's end", () => {
    const unit = fc.constantFrom('a', 'b', 'A', 'B', '\\', 'ư', 'Ư', 'Σ', 'ς', '\u{10428}');
    const word = fc.string({ unit, minLength: 1, maxLength: 12 });
    fc.assert(
      fc.property(
        fc.array(word, { minLength: 1, maxLength: 10 }),
        fc.array(fc.oneof(word, fc.string({ unit, maxLength: 6 })), { maxLength: 8 }),
        (raw, pieces) => {
          const words = raw.map((w) => w.toLowerCase());
          // Texts made of the words themselves and random filler, so that long matches happen.
          const text = pieces.map((p, i) => (i % 2 === 0 ? p : (raw[i % raw.length] ?? p))).join('');
          const lower = text.toLowerCase();
          const expected = words
            .map((w, i) => (lower.includes(w) && words.indexOf(w) === i ? i : -1))
            .filter((i) => i >= 0);
          const automaton = new AhoCorasick(words);
          expect(found(automaton, text)).toEqual(expected);
          const seen = new Uint32Array(automaton.size);
          const ids = new FoundWords(automaton.size);
          automaton.scanLowerCase(lower, seen, 1, ids);
          expect(ids.list().sort((a, b) => a - b)).toEqual(expected);
          expect(automaton.occursInLowerCase(lower)).toBe(expected.length > 0);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('finds a long word through the failure links of another long word', () => {
    // 'abababx' walks deep along 'abababab' then fails to 'ababx'... within deep states.
    const automaton = new AhoCorasick(['abababab', 'ababx', 'babx', 'x', 'zzzzzzzzzz']);
    expect(found(automaton, 'abababx')).toEqual([1, 2, 3]);
    expect(found(automaton, 'ABABABABAB')).toEqual([0]);
    expect(found(automaton, 'zzzzzzzzz')).toEqual([]);
    expect(found(automaton, 'zzzzzzzzzzz')).toEqual([4]);
    expect(automaton.occursInLowerCase('zzzzzzzzzz')).toBe(true);
    expect(automaton.occursInLowerCase('abababa')).toBe(false);
  });
});
