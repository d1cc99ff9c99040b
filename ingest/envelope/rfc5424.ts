import {
  type EnvelopeContext,
  newEnvelope,
  readPri,
  type StructuredData,
  type SyslogEnvelope,
} from './envelope.js';
import { parseIsoTimestamp } from './iso-timestamp.js';

const SP = 32;
const NIL = 45; /* - */

/**
 * Parses an RFC 5424 message:
 * `<PRI>VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID SP MSGID SP STRUCTURED-DATA [SP MSG]`.
 * Returns `undefined` when the header does not have that shape (the caller then tries RFC 3164). A
 * malformed STRUCTURED-DATA part does not fail the header: it is kept as the message and flagged.
 * Header fields are read leniently as non-empty tokens (some senders exceed RFC lengths); the BOM that
 * marks a UTF-8 MSG is removed.
 */
export function parseRfc5424(text: string, context: EnvelopeContext): SyslogEnvelope | undefined {
  const pri = readPri(text, 0);
  if (!pri) return undefined;
  let i = pri.end;
  // VERSION: NONZERO-DIGIT 0*2DIGIT
  let version = 0;
  const versionStart = i;
  while (i < text.length && i - versionStart < 3) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) break;
    version = version * 10 + (c - 48);
    i++;
  }
  if (i === versionStart || text.charCodeAt(versionStart) === 48 || text.charCodeAt(i) !== SP)
    return undefined;
  i++;

  const tsEnd = text.indexOf(' ', i);
  if (tsEnd < 0) return undefined;
  let timestamp: number | undefined;
  let subMillis: string | undefined;
  let zoneAssumed = false;
  if (!(tsEnd - i === 1 && text.charCodeAt(i) === NIL)) {
    const parsed = parseIsoTimestamp(text, i, tsEnd, context.timezone);
    if (!parsed) return undefined;
    timestamp = parsed.epoch;
    subMillis = parsed.subMillis;
    zoneAssumed = parsed.zoneAssumed;
  }
  i = tsEnd + 1;

  const hostEnd = text.indexOf(' ', i);
  if (hostEnd <= i) return undefined;
  const appEnd = text.indexOf(' ', hostEnd + 1);
  if (appEnd <= hostEnd + 1) return undefined;
  const procEnd = text.indexOf(' ', appEnd + 1);
  if (procEnd <= appEnd + 1) return undefined;
  const msgIdEnd = text.indexOf(' ', procEnd + 1);
  // MSGID may end the text only if SD is missing altogether, which RFC 5424 does not allow; be lenient.
  const msgIdStop = msgIdEnd < 0 ? text.length : msgIdEnd;
  if (msgIdStop <= procEnd + 1) return undefined;

  const envelope = newEnvelope('rfc5424');
  envelope.priority = pri.priority;
  envelope.version = version;
  envelope.timestamp = timestamp;
  envelope.subMillis = subMillis;
  if (zoneAssumed) envelope.zoneAssumed = true;
  envelope.hostname = field(text, i, hostEnd);
  envelope.appName = field(text, hostEnd + 1, appEnd);
  envelope.procId = field(text, appEnd + 1, procEnd);
  envelope.msgId = field(text, procEnd + 1, msgIdStop);
  if (msgIdEnd < 0) return envelope;

  i = msgIdEnd + 1;
  if (text.charCodeAt(i) === NIL && (i + 1 === text.length || text.charCodeAt(i + 1) === SP)) {
    envelope.message = messageFrom(text, i + 2);
    return envelope;
  }
  if (text.charCodeAt(i) === 91 /* [ */) {
    const sd: StructuredData = {};
    const after = parseStructuredData(text, i, sd);
    if (after >= 0) {
      envelope.structuredData = sd;
      envelope.message = messageFrom(text, after + 1);
      return envelope;
    }
  }
  // Not `-` and not valid SD-ELEMENTs: keep everything as the message rather than lose it.
  envelope.structuredDataInvalid = true;
  envelope.message = messageFrom(text, i);
  return envelope;
}

function field(text: string, start: number, end: number): string | undefined {
  if (end - start === 1 && text.charCodeAt(start) === NIL) return undefined;
  return text.slice(start, end);
}

function messageFrom(text: string, start: number): string {
  if (start >= text.length) return '';
  return text.charCodeAt(start) === 0xfeff ? text.slice(start + 1) : text.slice(start);
}

/**
 * Parses one or more SD-ELEMENTs starting at `start` (`[`) into `into`. Returns the index just after the
 * last `]` (the SP before MSG, or the end), or -1 when malformed. PARAM-VALUE escapes `\"`, `\\`, `\]`
 * are undone; a backslash before any other character is kept, as RFC 5424 requires.
 */
function parseStructuredData(text: string, start: number, into: StructuredData): number {
  let i = start;
  const length = text.length;
  while (i < length && text.charCodeAt(i) === 91) {
    i++;
    const idStart = i;
    while (i < length) {
      const c = text.charCodeAt(i);
      if (c === SP || c === 93 /* ] */ || c === 61 /* = */ || c === 34 /* " */) break;
      i++;
    }
    if (i === idStart || i >= length) return -1;
    const id = text.slice(idStart, i);
    const params = into[id] ?? {};
    into[id] = params;
    while (text.charCodeAt(i) === SP) {
      i++;
      const nameStart = i;
      while (i < length) {
        const c = text.charCodeAt(i);
        if (c === 61 || c === SP || c === 93 || c === 34) break;
        i++;
      }
      if (i === nameStart || text.charCodeAt(i) !== 61 || text.charCodeAt(i + 1) !== 34) return -1;
      const name = text.slice(nameStart, i);
      i += 2;
      // Fast path: no backslash before the closing quote, so nothing to unescape.
      const quote = text.indexOf('"', i);
      if (quote < 0) return -1;
      let backslash = i;
      while (backslash < quote && text.charCodeAt(backslash) !== 92) backslash++;
      if (backslash === quote) {
        params[name] = text.slice(i, quote);
        i = quote + 1;
        continue;
      }
      let value = '';
      let chunkStart = i;
      for (;;) {
        if (i >= length) return -1;
        const c = text.charCodeAt(i);
        if (c === 34) break;
        if (c === 92 /* \ */) {
          const next = text.charCodeAt(i + 1);
          if (next === 34 || next === 92 || next === 93) {
            value += text.slice(chunkStart, i);
            chunkStart = i + 1;
            i += 2;
            continue;
          }
        }
        i++;
      }
      value += text.slice(chunkStart, i);
      params[name] = value;
      i++;
    }
    if (text.charCodeAt(i) !== 93) return -1;
    i++;
  }
  if (i < length && text.charCodeAt(i) !== SP) return -1;
  return i;
}
