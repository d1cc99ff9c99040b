/**
 * RE2 syntax (what rules are checked against) → Lucene regexp (what Elasticsearch's `regexp` query runs).
 * Lucene anchors the whole term, so an unanchored search gets `.*` on each side; `^`/`$` at the ends drop
 * that padding. Lucene's `.` also matches newlines (as RE2 with `s`). Constructs Lucene cannot express
 * (word boundaries, inline flags, anchors inside the pattern) are refused with the reason.
 */

/** Escaped when literal: Lucene gives them meaning (`"` strings, `@ # & ~ < >` operators with some flags). */
const LUCENE_SPECIAL = new Set(['"', '@', '#', '&', '~', '<', '>']);
const ESCAPE_TO_CHAR: Record<string, string> = { n: '\n', t: '\t', r: '\r', f: '\f', v: '\v' };

export interface LuceneRegex {
  value: string;
  /** The pattern opened with `(?i)`: Lucene takes that as the query's `case_insensitive`. */
  caseInsensitive: boolean;
}

export function toLuceneRegex(source: string): LuceneRegex {
  let body = source;
  let caseInsensitive = false;
  if (body.startsWith('(?i)')) {
    caseInsensitive = true;
    body = body.slice(4);
  }
  let anchoredStart = false;
  let anchoredEnd = false;
  if (body.startsWith('^')) {
    anchoredStart = true;
    body = body.slice(1);
  }
  if (body.endsWith('$') && !isEscaped(body, body.length - 1)) {
    anchoredEnd = true;
    body = body.slice(0, -1);
  }
  let out = '';
  let inClass = false;
  for (let i = 0; i < body.length; i++) {
    const ch = body[i]!;
    if (ch === '\\') {
      const next = body[i + 1];
      if (next === undefined) throw new Error('regex ends with a backslash');
      i++;
      if (next === 'b' || next === 'B' || next === 'A' || next === 'z' || next === 'Z') {
        throw new Error(`'\\${next}' (an anchor or word boundary) has no Lucene equivalent`);
      }
      if (next === 'x' || next === 'u' || next === 'p' || next === 'P') {
        throw new Error(`'\\${next}' escapes have no Lucene equivalent`);
      }
      const literal = ESCAPE_TO_CHAR[next];
      out += literal ?? `\\${next}`;
      continue;
    }
    if (inClass) {
      if (ch === ']') inClass = false;
      out += LUCENE_SPECIAL.has(ch) ? `\\${ch}` : ch;
      continue;
    }
    switch (ch) {
      case '[':
        inClass = true;
        out += ch;
        // A `]` right after `[` or `[^` is literal in RE2.
        if (body[i + 1] === '^') {
          out += '^';
          i++;
        }
        if (body[i + 1] === ']') {
          out += '\\]';
          i++;
        }
        break;
      case '(':
        if (body[i + 1] === '?') {
          if (body[i + 2] === ':') {
            i += 2; // non-capturing group: Lucene groups never capture
          } else {
            throw new Error('inline flags or named groups ((?...)) have no Lucene equivalent');
          }
        }
        out += '(';
        if (body[i + 1] === '|') out += '""'; // an empty first branch: Lucene spells the empty string ""
        break;
      case '|':
        out += '|';
        if (i + 1 === body.length || body[i + 1] === '|' || body[i + 1] === ')') out += '""';
        break;
      case '^':
      case '$':
        throw new Error(`'${ch}' inside the pattern has no Lucene equivalent (only at its ends)`);
      case '*':
      case '+':
      case '?':
      case '}':
        out += ch;
        // Lazy quantifiers match the same strings as greedy ones: existence is all a query asks.
        if (body[i + 1] === '?') i++;
        break;
      default:
        out += LUCENE_SPECIAL.has(ch) ? `\\${ch}` : ch;
    }
  }
  return { value: `${anchoredStart ? '' : '.*'}${out}${anchoredEnd ? '' : '.*'}`, caseInsensitive };
}

function isEscaped(text: string, index: number): boolean {
  let backslashes = 0;
  for (let i = index - 1; i >= 0 && text[i] === '\\'; i--) backslashes++;
  return backslashes % 2 === 1;
}
