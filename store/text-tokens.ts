/**
 * Full-text tokens as Elasticsearch's `standard` analyzer makes them (Unicode UAX #29 word boundaries,
 * lowercased code point by code point, tokens over 255 characters split), so that SQLite's FTS index and
 * Elasticsearch find the same events for the same words.
 *
 * ASCII text, nearly every log line, takes a hand-written path (about 20x faster than Intl.Segmenter,
 * which would cap SQLite ingest below its target); anything else goes through Intl.Segmenter with the
 * few corrections Lucene needs: one token per CJK ideograph, emoji kept, no final-sigma or dotted-I
 * special casing. Known differences: Thai, Lao, Khmer and Myanmar runs are split by ICU's dictionary
 * while Lucene keeps a run whole; and a token over 255 characters is cut every 255 characters here, while
 * Lucene's scanner applies the word rules again inside each 255-character piece (`z×254.b` is `z×254. b`
 * here, `z×254 b` in Elasticsearch: the piece may not end in a joining `.`, `:` or `'`).
 */

/** Lucene's StandardTokenizer default `max_token_length`. */
const MAX_TOKEN_LENGTH = 255;

enum Kind {
  Other = 0,
  Letter = 1,
  Digit = 2,
  Underscore = 3,
  /** `:` joins letters only. */
  MidLetter = 4,
  /** `.` and `'` join letters to letters and digits to digits. */
  MidNumLet = 5,
  /** `,` and `;` join digits only. */
  MidNum = 6,
}

const asciiKind = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')) asciiKind[c] = Kind.Letter;
  else if (ch >= '0' && ch <= '9') asciiKind[c] = Kind.Digit;
  else if (ch === '_') asciiKind[c] = Kind.Underscore;
  else if (ch === ':') asciiKind[c] = Kind.MidLetter;
  else if (ch === '.' || ch === "'") asciiKind[c] = Kind.MidNumLet;
  else if (ch === ',' || ch === ';') asciiKind[c] = Kind.MidNum;
}

function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 127) return false;
  return true;
}

export function textTokens(text: string): string[] {
  if (!isAscii(text)) return unicodeTokens(text);
  const terms = textTerms(text);
  return terms === '' ? [] : terms.split(' ');
}

/**
 * `textTokens(text).join(' ')`, the form the SQLite full-text index is fed. ASCII text, nearly every
 * message, is read as bytes and written lowercased straight into a byte buffer, then read back as one
 * string: no substring per token, no array and no join (1.8 KB of garbage an event of e2e's mix).
 */
export function textTerms(text: string): string {
  const length = text.length;
  if (textBytes.length < length) textBytes = new Uint8Array(length * 2);
  // One byte per character read, and every one written: all ASCII (a wider character needs two or more
  // bytes, so the scan stops short). Reading the bytes costs far less than charCodeAt on a message, which
  // is a slice of its line.
  const { read, written } = encoder.encodeInto(text, textBytes);
  return read === length && written === length ? asciiTerms(textBytes, length) : textTokens(text).join(' ');
}

const encoder = new TextEncoder();
/** Reused by every call (synchronous, read back before returning); grow to the longest text seen. */
let textBytes = new Uint8Array(1024);
let termBytes = Buffer.allocUnsafe(2048);

/**
 * The ASCII tokenizer: a scan over the text's bytes, its tokens written lowercased and space-separated,
 * tokens over MAX_TOKEN_LENGTH split as pushToken splits them. `textTokens` splits this string.
 */
function asciiTerms(bytes: Uint8Array, length: number): string {
  // Tokens and the spaces between them never outnumber the characters, plus one space per 255 of a token.
  if (termBytes.length < length * 2) termBytes = Buffer.allocUnsafe(length * 2);
  const out = termBytes;
  let written = 0;
  let i = 0;
  while (i < length) {
    const kind = asciiKind[bytes[i]!]!;
    if (kind !== Kind.Letter && kind !== Kind.Digit && kind !== Kind.Underscore) {
      i++;
      continue;
    }
    const start = i;
    let hasWordChar = kind !== Kind.Underscore;
    i++;
    while (i < length) {
      const current = asciiKind[bytes[i]!]!;
      if (current === Kind.Letter || current === Kind.Digit || current === Kind.Underscore) {
        if (current !== Kind.Underscore) hasWordChar = true;
        i++;
        continue;
      }
      if (current >= Kind.MidLetter && i + 1 < length) {
        const before = asciiKind[bytes[i - 1]!]!;
        const after = asciiKind[bytes[i + 1]!]!;
        const joinsLetters = before === Kind.Letter && after === Kind.Letter && current !== Kind.MidNum;
        const joinsDigits = before === Kind.Digit && after === Kind.Digit && current !== Kind.MidLetter;
        if (joinsLetters || joinsDigits) {
          i += 2;
          continue;
        }
      }
      break;
    }
    if (!hasWordChar) continue;
    if (written > 0) out[written++] = 32;
    for (let at = start; at < i; at++) {
      if (at > start && (at - start) % MAX_TOKEN_LENGTH === 0) out[written++] = 32;
      const c = bytes[at]!;
      out[written++] = c >= 65 && c <= 90 ? c + 32 : c;
    }
  }
  return out.toString('latin1', 0, written);
}

function pushToken(tokens: string[], token: string): void {
  if (token.length <= MAX_TOKEN_LENGTH) {
    tokens.push(token);
    return;
  }
  for (let start = 0; start < token.length; start += MAX_TOKEN_LENGTH) {
    tokens.push(token.slice(start, start + MAX_TOKEN_LENGTH));
  }
}

const segmenter = new Intl.Segmenter('und', { granularity: 'word' });
const LETTER_OR_DIGIT = /[\p{L}\p{N}]/u;
const EMOJI = /\p{Extended_Pictographic}/u;
const IDEOGRAPH = /[\p{Script=Han}\p{Script=Hiragana}]/u;

function unicodeTokens(text: string): string[] {
  const tokens: string[] = [];
  for (const { segment, isWordLike } of segmenter.segment(text)) {
    if (isWordLike) {
      if (!LETTER_OR_DIGIT.test(segment)) continue;
      if (IDEOGRAPH.test(segment)) {
        splitIdeographs(segment, tokens);
        continue;
      }
      pushToken(tokens, lowerCase(segment));
    } else if (EMOJI.test(segment)) {
      tokens.push(segment);
    }
  }
  return tokens;
}

/** Lucene emits each ideograph as its own token; runs of other letters stay together. */
function splitIdeographs(segment: string, tokens: string[]): void {
  let run = '';
  for (const ch of segment) {
    if (IDEOGRAPH.test(ch)) {
      if (run !== '') pushToken(tokens, lowerCase(run));
      run = '';
      tokens.push(ch);
    } else {
      run += ch;
    }
  }
  if (run !== '') pushToken(tokens, lowerCase(run));
}

/** Java's Character.toLowerCase, code point by code point: no context-dependent or expanding mappings. */
function lowerCase(text: string): string {
  let out = '';
  for (const ch of text) {
    if (ch === '\u0130') out += 'i';
    else {
      const lower = ch.toLowerCase();
      out += [...lower].length === 1 ? lower : ch;
    }
  }
  return out;
}
