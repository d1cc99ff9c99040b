import { type EnvelopeContext, newEnvelope, readPri, type SyslogEnvelope } from './envelope.js';
import { parseIsoTimestamp } from './iso-timestamp.js';
import { inferYearEpoch, zonedTimeToEpoch } from './zoned-time.js';

const SP = 32;
const COLON = 58;

/** `Jan`..`Dec` keyed by their three lower-cased char codes, so no substring is allocated per line. */
const MONTHS = new Map<number, number>(
  ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'].map((name, index) => [
    monthKey(name, 0),
    index + 1,
  ]),
);

function monthKey(text: string, at: number): number {
  return (
    ((text.charCodeAt(at) | 0x20) << 16) |
    ((text.charCodeAt(at + 1) | 0x20) << 8) |
    (text.charCodeAt(at + 2) | 0x20)
  );
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function twoDigits(text: string, at: number): number {
  const a = text.charCodeAt(at) - 48;
  const b = text.charCodeAt(at + 1) - 48;
  // Written as !(in range) so that NaN (reading past the end) is rejected too.
  if (!(a >= 0 && a <= 9 && b >= 0 && b <= 9)) return -1;
  return a * 10 + b;
}

interface HeaderTime {
  epoch: number;
  subMillis?: string;
  zoneAssumed: boolean;
  end: number;
}

/**
 * Parses BSD syslog (RFC 3164) and the shapes real senders produce under that name:
 * - `<PRI>` optional (lines read from files have none);
 * - `Mmm dd hh:mm:ss` (day space- or zero-padded, optional fraction), Cisco's `Mmm dd yyyy hh:mm:ss`, an
 *   ISO 8601 timestamp (rsyslog's forward format), or no timestamp at all;
 * - hostname optional (`<13>Oct 11 22:14:15 su: ...` has none);
 * - `tag[pid]:` or `tag:`; a Cisco `%ASA-6-302013:` mnemonic starts the message (the device parser reads it);
 * - anything else (FortiGate's `key=value` with no header) is kept whole as the message.
 * Times without a zone are read in `context.timezone`; a missing year is inferred (see `inferYearEpoch`).
 * Never fails: the worst case is an envelope holding the whole text as the message.
 */
export function parseRfc3164(text: string, context: EnvelopeContext): SyslogEnvelope {
  const envelope = newEnvelope('rfc3164');
  let i = 0;
  const pri = readPri(text, 0);
  if (pri) {
    envelope.priority = pri.priority;
    i = pri.end;
  }
  while (text.charCodeAt(i) === SP) i++;
  // Cisco IOS marks unsynchronised clocks with `*` and lost sync with `.`.
  const mark = text.charCodeAt(i);
  if ((mark === 42 || mark === 46) && MONTHS.has(monthKey(text, i + 1))) i++;

  const time = readHeaderTime(text, i, context);
  if (time) {
    envelope.timestamp = time.epoch;
    envelope.subMillis = time.subMillis;
    if (time.zoneAssumed) envelope.zoneAssumed = true;
    i = time.end;
    if (text.charCodeAt(i) === COLON) i++; // Cisco ASA: `... 10:00:00: %ASA-...`
    while (text.charCodeAt(i) === SP) i++;
  } else if (!pri) {
    envelope.format = 'none';
  }

  const tokenStart = i;
  let tokenEnd = text.indexOf(' ', i);
  if (tokenEnd < 0) tokenEnd = text.length;
  if (time && tokenEnd > tokenStart && !looksLikeTag(text, tokenStart, tokenEnd)) {
    envelope.hostname = text.slice(tokenStart, tokenEnd);
    i = tokenEnd;
    while (text.charCodeAt(i) === SP) i++;
    // Cisco ASA with a device id: `fw01 : %ASA-...`.
    if (text.charCodeAt(i) === COLON && text.charCodeAt(i + 1) === SP) i += 2;
  }
  i = readTag(text, i, envelope);
  envelope.message = i === 0 ? text : text.slice(i);
  return envelope;
}

/** A token right after the timestamp is a tag, not a hostname, when it ends with `:` or is `prog[pid]:`. */
function looksLikeTag(text: string, start: number, end: number): boolean {
  const first = text.charCodeAt(start);
  if (first === 37 /* % */) return true;
  const last = text.charCodeAt(end - 1);
  return (
    last === COLON && !(end - start > 2 && text.indexOf(':', start) < end - 1 && isIpv6Like(text, start, end))
  );
}

/** `fe80::1:` would end with a colon; hosts given as IPv6 literals are rare but must not become tags. */
function isIpv6Like(text: string, start: number, end: number): boolean {
  for (let i = start; i < end - 1; i++) {
    const c = text.charCodeAt(i) | 0x20;
    if (!(isDigit(c) || (c >= 97 && c <= 102) || c === COLON || c === 46)) return false;
  }
  return true;
}

/**
 * Reads `tag[pid]:` or `tag:` at `start` into the envelope and returns where the message starts (after the
 * colon and one space). Leaves `start` when there is no tag, and always when the token is a `%` mnemonic.
 */
function readTag(text: string, start: number, envelope: SyslogEnvelope): number {
  const limit = Math.min(text.length, start + 128);
  let i = start;
  for (; i < limit; i++) {
    const c = text.charCodeAt(i);
    if (c === 91 /* [ */ || c === COLON || c === SP) break;
    if (!isTagChar(c)) return start;
  }
  if (i === start || i >= limit || text.charCodeAt(start) === 37) return start;
  const tagEnd = i;
  let pidStart = -1;
  let pidEnd = -1;
  if (text.charCodeAt(i) === 91) {
    pidStart = i + 1;
    pidEnd = text.indexOf(']', pidStart);
    if (pidEnd < 0 || pidEnd - pidStart > 64) return start;
    i = pidEnd + 1;
  }
  if (text.charCodeAt(i) !== COLON) return start;
  const after = text.charCodeAt(i + 1);
  if (!(after === SP || Number.isNaN(after))) return start;
  envelope.appName = text.slice(start, tagEnd);
  if (pidStart >= 0) envelope.procId = text.slice(pidStart, pidEnd);
  return after === SP ? i + 2 : i + 1;
}

/**
 * Characters of a program name: letters, digits and `-_./()@+` (`postfix/smtpd`, `sshd(pam_unix)`,
 * `systemd-logind`). Quotes, braces, `=` or `,` mean the text is a message (JSON, key=value), not a tag.
 */
function isTagChar(c: number): boolean {
  return (
    (c >= 48 && c <= 57) ||
    ((c | 0x20) >= 97 && (c | 0x20) <= 122) ||
    c === 45 ||
    c === 95 ||
    c === 46 ||
    c === 47 ||
    c === 40 ||
    c === 41 ||
    c === 64 ||
    c === 43 ||
    c > 127
  );
}

function readHeaderTime(text: string, start: number, context: EnvelopeContext): HeaderTime | undefined {
  const c = text.charCodeAt(start);
  if (isDigit(c)) return readIsoHeaderTime(text, start, context);
  const month = MONTHS.get(monthKey(text, start));
  if (month === undefined || text.charCodeAt(start + 3) !== SP) return undefined;
  let i = start + 4;
  if (text.charCodeAt(i) === SP) i++;
  let day = 0;
  const dayStart = i;
  while (i < dayStart + 2 && isDigit(text.charCodeAt(i))) day = day * 10 + text.charCodeAt(i++) - 48;
  if (i === dayStart || day < 1 || day > 31 || text.charCodeAt(i) !== SP) return undefined;
  i++;
  let year = -1;
  // Cisco: `Jan 05 2024 10:00:00`.
  if (text.charCodeAt(i + 4) === SP && isDigit(text.charCodeAt(i + 3)) && text.charCodeAt(i + 2) !== COLON) {
    const high = twoDigits(text, i);
    const low = twoDigits(text, i + 2);
    if (high < 0 || low < 0) return undefined;
    year = high * 100 + low;
    i += 5;
  }
  const hour = twoDigits(text, i);
  const minute = twoDigits(text, i + 3);
  const second = twoDigits(text, i + 6);
  if (
    hour < 0 ||
    hour > 23 ||
    minute < 0 ||
    minute > 59 ||
    second < 0 ||
    second > 60 ||
    text.charCodeAt(i + 2) !== COLON ||
    text.charCodeAt(i + 5) !== COLON
  ) {
    return undefined;
  }
  i += 8;
  let millis = 0;
  let subMillis: string | undefined;
  if (text.charCodeAt(i) === 46 && isDigit(text.charCodeAt(i + 1))) {
    const fracStart = ++i;
    while (i < fracStart + 9 && isDigit(text.charCodeAt(i))) i++;
    const length = i - fracStart;
    millis = Number(
      length >= 3 ? text.slice(fracStart, fracStart + 3) : text.slice(fracStart, i).padEnd(3, '0'),
    );
    if (length > 3) subMillis = text.slice(fracStart + 3, i);
  }
  const sec = second === 60 ? 59 : second;
  if (second === 60) millis = 999;
  let zone = context.timezone;
  let zoneAssumed = true;
  // An explicit UTC/GMT after the time (Cisco `service timestamps log datetime show-timezone`).
  if (text.charCodeAt(i) === SP && isUtcWord(text, i + 1)) {
    zone = 'UTC';
    zoneAssumed = false;
    i += 4;
  }
  // 30 February is no date in any year; 29 February is checked against the inferred year later.
  if (day > 28 && day > daysIn(year >= 0 ? year : 2000, month)) return undefined;
  const epoch =
    year >= 0
      ? zonedTimeToEpoch(zone, year, month, day, hour, minute, sec, millis)
      : inferYearEpoch(zone, context.receivedAt, month, day, hour, minute, sec, millis);
  const time: HeaderTime = { epoch, zoneAssumed, end: i };
  if (subMillis !== undefined) time.subMillis = subMillis;
  return time;
}

function isUtcWord(text: string, at: number): boolean {
  const word = text.slice(at, at + 3);
  const after = text.charCodeAt(at + 3);
  return (word === 'UTC' || word === 'GMT') && (after === SP || after === COLON || Number.isNaN(after));
}

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function readIsoHeaderTime(text: string, start: number, context: EnvelopeContext): HeaderTime | undefined {
  if (text.charCodeAt(start + 4) !== 45 || text.charCodeAt(start + 10) !== 84) return undefined;
  let end = text.indexOf(' ', start);
  if (end < 0) end = text.length;
  // `2024-01-05T10:00:00: msg` (colon-terminated): the colon is not part of the time.
  const stop = text.charCodeAt(end - 1) === COLON && end - start > 19 ? end - 1 : end;
  const parsed = parseIsoTimestamp(text, start, stop, context.timezone);
  if (!parsed) return undefined;
  const time: HeaderTime = { epoch: parsed.epoch, zoneAssumed: parsed.zoneAssumed, end: stop };
  if (parsed.subMillis !== undefined) time.subMillis = parsed.subMillis;
  return time;
}
