import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AhoCorasick } from './aho-corasick.js';

function found(automaton: AhoCorasick, text: string): number[] {
  const ids = new Set<number>();
  automaton.scan(text, (id) => ids.add(id));
  return [...ids].sort((a, b) => a - b);
}

describe('Aho–Corasick automaton', () => {
  it('finds overlapping and nested words', () => {
    const words = ['he', 'she', 'his', 'hers', 'powershell', 'shell', '-enc'];
    const automaton = new AhoCorasick(words);
    expect(found(automaton, 'ushers')).toEqual([0, 1, 3]);
    expect(found(automaton, 'powershell.exe -enc aaa')).toEqual([0, 1, 4, 5, 6]);
    expect(found(automaton, 'nothing')).toEqual([]);
  });

  it('agrees with indexOf on random words and texts', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit: fc.constantFrom('a', 'b', 'c', 'ư', '\\'), minLength: 1, maxLength: 4 }), {
          minLength: 1,
          maxLength: 12,
        }),
        fc.string({ unit: fc.constantFrom('a', 'b', 'c', 'ư', '\\', ' '), maxLength: 40 }),
        (words, text) => {
          const expected = words.map((w, i) => (text.includes(w) ? i : -1)).filter((i) => i >= 0);
          // Duplicate words report the first id only.
          const firstIds = expected.filter((i) => words.indexOf(words[i]!) === i);
          expect(found(new AhoCorasick(words), text)).toEqual(firstIds);
        },
      ),
    );
  });
});
