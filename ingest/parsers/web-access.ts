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
const MONTHS: Record<string, number> = {
  Jan: 0,
  Feb: 1,
  Mar: 2,
  Apr: 3,
  May: 4,
  Jun: 5,
  Jul: 6,
  Aug: 7,
  Sep: 8,
  Oct: 9,
  Nov: 10,
  Dec: 11,
};

function parseWebAccess(message: string, event: EcsEvent, envelope?: { appName?: string }): ParseOutcome {
  const program = envelope?.appName?.toLowerCase() ?? '';
  const module = program.startsWith('nginx')
    ? 'nginx'
    : program.startsWith('apache') || program === 'httpd'
      ? 'apache'
      : 'web';
  event.event.module = module;
  event.event.dataset = `${module}.access`;
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
  const user = message.slice(identEnd + 1, open);
  if (user !== '-' && user !== '') setUserName(event, user);
  event['@timestamp'] = isoOf(time);

  const request = message.slice(requestStart, requestEnd).replaceAll('\\"', '"');
  const http: Record<string, unknown> = {};
  const url: Record<string, string> = {};
  const firstSpace = request.indexOf(' ');
  const lastSpace = request.lastIndexOf(' ');
  if (firstSpace > 0 && lastSpace > firstSpace && request.startsWith('HTTP/', lastSpace + 1)) {
    http.request = { method: request.slice(0, firstSpace) };
    http.version = request.slice(lastSpace + 6);
    const target = request.slice(firstSpace + 1, lastSpace);
    url.original = target;
    const query = target.indexOf('?');
    url.path = query < 0 ? target : target.slice(0, query);
    if (query >= 0) url.query = target.slice(query + 1);
  } else if (request !== '-' && request !== '') {
    url.original = request;
  }

  // After the request: ` status bytes[ "referer" "user agent"]`
  let i = requestEnd + 2;
  const statusEnd = message.indexOf(' ', i);
  const status = Number(message.slice(i, statusEnd < 0 ? undefined : statusEnd));
  const response: Record<string, unknown> = {};
  if (Number.isInteger(status) && status >= 100 && status <= 999) response.status_code = status;
  if (statusEnd > 0) {
    i = statusEnd + 1;
    let bytesEnd = message.indexOf(' ', i);
    if (bytesEnd < 0) bytesEnd = message.length;
    const bytes = Number(message.slice(i, bytesEnd));
    if (Number.isInteger(bytes) && bytes >= 0) response.body = { bytes };
    i = bytesEnd + 1;
    if (message.charCodeAt(i) === 34) {
      const refererEnd = closingQuote(message, i + 1);
      if (refererEnd > 0) {
        const referer = message.slice(i + 1, refererEnd);
        if (referer !== '-' && referer !== '')
          http.request = { ...(http.request as object), referrer: referer };
        i = refererEnd + 2;
        if (message.charCodeAt(i) === 34) {
          const agentEnd = closingQuote(message, i + 1);
          if (agentEnd > 0) {
            const agent = message.slice(i + 1, agentEnd);
            if (agent !== '-' && agent !== '') event.user_agent = { original: agent.replaceAll('\\"', '"') };
          }
        }
      }
    }
  }
  if (Object.keys(response).length > 0) http.response = response;
  event.http = http;
  if (Object.keys(url).length > 0) event.url = url;
  event.event.kind = 'event';
  event.event.category = ['web'];
  event.event.type = ['access'];
  if (typeof response.status_code === 'number')
    event.event.outcome = response.status_code < 400 ? 'success' : 'failure';
  return PARSED;
}

/** Index of the `"` closing a quoted field that starts at `from`, skipping `\"`. */
function closingQuote(text: string, from: number): number {
  let at = text.indexOf('"', from);
  while (at > 0 && text.charCodeAt(at - 1) === 92) at = text.indexOf('"', at + 1);
  return at;
}

/** `05/Jan/2024:10:00:00 +0700` in text[start, end), read digit by digit (no substrings). */
function accessTime(text: string, start: number, end: number): number | undefined {
  if (end - start !== 26) return undefined;
  const day = digitsAt(text, start, 2);
  const month = MONTHS[text.slice(start + 3, start + 6)];
  const year = digitsAt(text, start + 7, 4);
  const hour = digitsAt(text, start + 12, 2);
  const minute = digitsAt(text, start + 15, 2);
  const second = digitsAt(text, start + 18, 2);
  const sign = text.charCodeAt(start + 21) === 45 ? -1 : 1;
  const offset = sign * (digitsAt(text, start + 22, 2) * 60 + digitsAt(text, start + 24, 2));
  if (month === undefined || ![day, year, hour, minute, second, offset].every(Number.isFinite))
    return undefined;
  return Date.UTC(year, month, day, hour, minute, second) - offset * 60_000;
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
