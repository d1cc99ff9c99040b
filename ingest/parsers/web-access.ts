import { type EcsEvent, setSourceAddress, setUserName } from '../ecs.js';
import { isoOf } from '../iso.js';
import { PARSED, type ParseOutcome, type SourceParser, UNRECOGNISED } from './source-parser.js';

/**
 * nginx and Apache access logs in the common and combined formats (the defaults of both):
 * `ip - user [05/Jan/2024:10:00:00 +0700] "GET /path?q HTTP/1.1" 200 1234 "referer" "user agent"`.
 * Read by position with indexOf; a malformed request line (scanners send binary or nothing) is kept as
 * `url.original` without method.
 */
export const webAccessParser: SourceParser = {
  id: 'web-access',
  programs: ['nginx', 'apache', 'apache2', 'httpd', 'apache-access', 'nginx-access'],
  sniff: (message) => ACCESS_LINE.test(message),
  parse: parseWebAccess,
};

const ACCESS_LINE = /^\S+ \S+ \S+ \[\d{2}\/\w{3}\/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}\] "/;
/** Month by its three letters packed into one number (`Jan` → 0), so that reading it makes no substring. */
const MONTHS = new Map<number, number>(
  ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'].map((name, month) => [
    packed3(name, 0),
    month,
  ]),
);

function packed3(text: string, at: number): number {
  return (text.charCodeAt(at) << 16) | (text.charCodeAt(at + 1) << 8) | text.charCodeAt(at + 2);
}

function parseWebAccess(message: string, event: EcsEvent, envelope?: { appName?: string }): ParseOutcome {
  const program = envelope?.appName?.toLowerCase() ?? '';
  const module = program.startsWith('nginx')
    ? 'nginx'
    : program.startsWith('apache') || program === 'httpd'
      ? 'apache'
      : 'web';
  event.event.module = module;
  event.event.dataset =
    module === 'nginx' ? 'nginx.access' : module === 'apache' ? 'apache.access' : 'web.access';
  const ipEnd = message.indexOf(' ');
  const identEnd = message.indexOf(' ', ipEnd + 1);
  const open = message.indexOf(' [', identEnd);
  const close = message.indexOf('] "', open);
  if (ipEnd <= 0 || identEnd < 0 || open < 0 || close < 0) return UNRECOGNISED;
  const time = accessTime(message, open + 2, close);
  const requestStart = close + 3;
  const requestEnd = closingQuote(message, requestStart);
  if (time === undefined || requestEnd < 0) return UNRECOGNISED;

  const address = message.slice(0, ipEnd);
  setSourceAddress(event, address);
  if (event.source) event.source.address = address;
  // `-` (or nothing) is no user: tested in place, without taking the substring.
  const userLength = open - identEnd - 1;
  if (userLength > 1 || (userLength === 1 && message.charCodeAt(identEnd + 1) !== 45) /* - */) {
    setUserName(event, message.slice(identEnd + 1, open));
  }
  event['@timestamp'] = isoOf(time);

  let request = message.slice(requestStart, requestEnd);
  if (request.includes('\\"')) request = request.replaceAll('\\"', '"');
  const http: {
    request?: Record<string, string>;
    version?: string;
    response?: { status_code?: number; body?: { bytes: number } };
  } = {};
  let url: Record<string, string> | undefined;
  const firstSpace = request.indexOf(' ');
  const lastSpace = request.lastIndexOf(' ');
  if (firstSpace > 0 && lastSpace > firstSpace && request.startsWith('HTTP/', lastSpace + 1)) {
    http.request = { method: request.slice(0, firstSpace) };
    http.version = request.slice(lastSpace + 6);
    const target = request.slice(firstSpace + 1, lastSpace);
    const query = target.indexOf('?');
    url =
      query < 0
        ? { original: target, path: target }
        : { original: target, path: target.slice(0, query), query: target.slice(query + 1) };
  } else if (request !== '-' && request !== '') {
    url = { original: request };
  }

  // After the request: ` status bytes[ "referer" "user agent"]`
  let i = requestEnd + 2;
  const statusEnd = message.indexOf(' ', i);
  const status = numberAt(message, i, statusEnd < 0 ? message.length : statusEnd);
  let response: { status_code?: number; body?: { bytes: number } } | undefined;
  if (Number.isInteger(status) && status >= 100 && status <= 999) response = { status_code: status };
  if (statusEnd > 0) {
    i = statusEnd + 1;
    let bytesEnd = message.indexOf(' ', i);
    if (bytesEnd < 0) bytesEnd = message.length;
    const bytes = numberAt(message, i, bytesEnd);
    if (Number.isInteger(bytes) && bytes >= 0) {
      if (response) response.body = { bytes };
      else response = { body: { bytes } };
    }
    i = bytesEnd + 1;
    if (message.charCodeAt(i) === 34) {
      const refererEnd = closingQuote(message, i + 1);
      if (refererEnd > 0) {
        if (!isNothing(message, i + 1, refererEnd)) {
          const referrer = message.slice(i + 1, refererEnd);
          if (http.request) http.request.referrer = referrer;
          else http.request = { referrer };
        }
        i = refererEnd + 2;
        if (message.charCodeAt(i) === 34) {
          const agentEnd = closingQuote(message, i + 1);
          if (agentEnd > 0 && !isNothing(message, i + 1, agentEnd)) {
            const agent = message.slice(i + 1, agentEnd);
            event.user_agent = { original: agent.includes('\\"') ? agent.replaceAll('\\"', '"') : agent };
          }
        }
      }
    }
  }
  if (response) http.response = response;
  event.http = http;
  if (url) event.url = url;
  event.event.kind = 'event';
  event.event.category = ['web'];
  event.event.type = ['access'];
  const statusCode = response?.status_code;
  if (statusCode !== undefined) event.event.outcome = statusCode < 400 ? 'success' : 'failure';
  return PARSED;
}

/** text[start, end) is empty or `-` (nginx's placeholder for a missing referrer or user agent). */
function isNothing(text: string, start: number, end: number): boolean {
  return end === start || (end === start + 1 && text.charCodeAt(start) === 45);
}

/** `Number(text.slice(start, end))`, with plain digits read in place (the usual case) and no substring. */
function numberAt(text: string, start: number, end: number): number {
  if (end > start && end - start <= 15) {
    let value = 0;
    let i = start;
    for (; i < end; i++) {
      const digit = text.charCodeAt(i) - 48;
      if (!(digit >= 0 && digit <= 9)) break;
      value = value * 10 + digit;
    }
    if (i === end) return value;
  }
  return Number(text.slice(start, end));
}

/** Index of the `"` closing a quoted field that starts at `from`, skipping `\"`. */
function closingQuote(text: string, from: number): number {
  let at = text.indexOf('"', from);
  while (at > 0 && text.charCodeAt(at - 1) === 92) at = text.indexOf('"', at + 1);
  return at;
}

/** Start of the last UTC day `accessTime` computed (access logs come in order: one Date.UTC per day). */
let memoYear = Number.NaN;
let memoMonth = Number.NaN;
let memoDay = Number.NaN;
let memoDayStart = Number.NaN;

/** `05/Jan/2024:10:00:00 +0700` in text[start, end), read digit by digit (no substrings). */
function accessTime(text: string, start: number, end: number): number | undefined {
  if (end - start !== 26) return undefined;
  const day = digitsAt(text, start, 2);
  const month = MONTHS.get(packed3(text, start + 3));
  const year = digitsAt(text, start + 7, 4);
  const hour = digitsAt(text, start + 12, 2);
  const minute = digitsAt(text, start + 15, 2);
  const second = digitsAt(text, start + 18, 2);
  const sign = text.charCodeAt(start + 21) === 45 ? -1 : 1;
  const offset = sign * (digitsAt(text, start + 22, 2) * 60 + digitsAt(text, start + 24, 2));
  // digitsAt gives NaN for a non-digit: any NaN refuses the time.
  if (month === undefined || Number.isNaN(day + year + hour + minute + second + offset)) return undefined;
  if (day !== memoDay || month !== memoMonth || year !== memoYear) {
    // Date.UTC also rolls over out-of-range days and maps years 0–99 to 1900–1999: same result as before.
    memoDayStart = Date.UTC(year, month, day);
    memoYear = year;
    memoMonth = month;
    memoDay = day;
  }
  return memoDayStart + hour * 3_600_000 + minute * 60_000 + second * 1000 - offset * 60_000;
}

/** The number written by `count` digits at `at`, NaN if any is not a digit. */
function digitsAt(text: string, at: number, count: number): number {
  let value = 0;
  for (let i = at; i < at + count; i++) {
    const c = text.charCodeAt(i) - 48;
    if (!(c >= 0 && c <= 9)) return Number.NaN;
    value = value * 10 + c;
  }
  return value;
}
