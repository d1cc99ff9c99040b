import { addRelated, type EcsEvent, setSourceAddress, setUserName } from '../ecs.js';
import { zonedTimeToEpoch } from '../envelope/zoned-time.js';
import { isoOf } from '../iso.js';
import { invalid, PARSED, type ParseContext, type ParseOutcome, type SourceParser } from './source-parser.js';

/**
 * ArcSight Common Event Format: `CEF:0|Vendor|Product|Version|SignatureID|Name|Severity|k=v k2=v with spaces`.
 * Header fields unescape `\|` and `\\`; extension values unescape `\=`, `\\`, `\n`, `\r` and run until the
 * next ` key=`. The CEF keys most used by devices map to ECS (as Elastic's CEF module does); all are kept
 * under `cef.extensions`.
 */
export const cefParser: SourceParser = {
  id: 'cef',
  sniff: (message) => message.startsWith('CEF:'),
  parse: parseCef,
};

const TEXT_SEVERITY: Record<string, number> = { unknown: 0, low: 3, medium: 6, high: 8, 'very-high': 10 };

function parseCef(
  message: string,
  event: EcsEvent,
  _envelope: unknown,
  context?: ParseContext,
): ParseOutcome {
  event.event.module = 'cef';
  event.event.dataset = 'cef.log';
  const start = message.indexOf('CEF:');
  if (start < 0) return invalid('no CEF: header');
  const header: string[] = [];
  let i = start + 4;
  let field = '';
  while (header.length < 7 && i < message.length) {
    const c = message.charCodeAt(i);
    if (c === 92 /* \ */ && i + 1 < message.length) {
      field += message[i + 1];
      i += 2;
      continue;
    }
    if (c === 124 /* | */) {
      header.push(field);
      field = '';
    } else {
      field += message[i];
    }
    i++;
  }
  if (header.length < 7) return invalid(`CEF header has ${header.length + 1} of 8 fields`);
  const [version, vendor, product, deviceVersion, signature, name, severity] = header as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  const extensions = parseExtension(message, i);
  event.cef = {
    version,
    device: { vendor, product, version: deviceVersion, event_class_id: signature },
    name,
    severity,
    extensions,
  };
  event.observer = {
    vendor,
    product,
    ...(deviceVersion ? { version: deviceVersion } : {}),
  } as EcsEvent['observer'];
  event.event.kind = 'event';
  event.event.code = signature;
  event.message = name;
  const numeric = Number(severity);
  const level = Number.isFinite(numeric) && severity !== '' ? numeric : TEXT_SEVERITY[severity.toLowerCase()];
  if (level !== undefined) event.event.severity = level;
  mapExtensions(extensions, event, context?.timezone ?? 'UTC');
  return PARSED;
}

function parseExtension(message: string, start: number): Record<string, string> {
  const out: Record<string, string> = {};
  // Positions of unescaped `=`; each key is the word just before one.
  const keys: { key: string; keyStart: number; valueStart: number }[] = [];
  for (let i = start; i < message.length; i++) {
    if (message.charCodeAt(i) === 92) {
      i++;
      continue;
    }
    if (message.charCodeAt(i) !== 61) continue;
    let keyStart = i;
    while (keyStart > start && message.charCodeAt(keyStart - 1) !== 32) keyStart--;
    const key = message.slice(keyStart, i);
    if (/^[A-Za-z0-9_.[\]-]+$/.test(key)) keys.push({ key, keyStart, valueStart: i + 1 });
  }
  for (let k = 0; k < keys.length; k++) {
    const current = keys[k]!;
    const end = k + 1 < keys.length ? keys[k + 1]!.keyStart - 1 : message.length;
    out[current.key] = unescapeValue(
      message.slice(current.valueStart, Math.max(current.valueStart, end)).trimEnd(),
    );
  }
  return out;
}

function unescapeValue(value: string): string {
  if (!value.includes('\\')) return value;
  return value.replace(/\\([=\\nr|])/g, (_, c: string) => (c === 'n' ? '\n' : c === 'r' ? '\r' : c));
}

function mapExtensions(x: Record<string, string>, event: EcsEvent, zone: string): void {
  const src = x.src ?? x.c6a2;
  if (src) setSourceAddress(event, src, port(x.spt));
  else if (x.shost) event.source = { domain: x.shost };
  if (x.shost && event.source) event.source.domain = x.shost;
  const dst = x.dst ?? x.c6a3;
  if (dst || x.dhost) {
    const destination: NonNullable<EcsEvent['destination']> = {};
    if (dst) destination.ip = dst;
    const p = port(x.dpt);
    if (p !== undefined) destination.port = p;
    if (x.dhost) destination.domain = x.dhost;
    if (x.duser) destination.user = { name: x.duser };
    event.destination = destination;
    if (dst) addRelated(event, 'ip', dst);
  }
  if (x.suser) {
    setUserName(event, x.suser);
    if (event.source) event.source.user = { name: x.suser };
  } else if (x.duser) {
    setUserName(event, x.duser);
  }
  if (x.act) event.event.action = x.act;
  if (x.outcome) {
    const outcome = x.outcome.toLowerCase();
    if (outcome.startsWith('succ') || outcome === 'allow') event.event.outcome = 'success';
    else if (outcome.startsWith('fail') || outcome === 'deny' || outcome === 'blocked')
      event.event.outcome = 'failure';
  }
  if (x.proto) event.network = { transport: x.proto.toLowerCase() };
  if (x.app) event.network = { ...(event.network as object), protocol: x.app.toLowerCase() };
  if (x.request) event.url = { original: x.request };
  if (x.requestMethod) event.http = { request: { method: x.requestMethod } };
  if (x.requestClientApplication) event.user_agent = { original: x.requestClientApplication };
  if (x.fname || x.filePath)
    event.file = { ...(x.fname ? { name: x.fname } : {}), ...(x.filePath ? { path: x.filePath } : {}) };
  if (x.sproc || x.dproc) event.process = { name: x.sproc ?? x.dproc };
  if (x.msg) event.message = x.msg;
  if (x.dvchost && event.observer) event.observer.hostname = x.dvchost;
  const time = cefTime(x.rt ?? x.end ?? x.start, zone);
  if (time !== undefined) event['@timestamp'] = isoOf(time);
}

function port(value: string | undefined): number | undefined {
  const n = Number(value);
  return value !== undefined && Number.isInteger(n) && n >= 0 && n <= 65535 ? n : undefined;
}

const MONTHS: Record<string, number> = {
  Jan: 1,
  Feb: 2,
  Mar: 3,
  Apr: 4,
  May: 5,
  Jun: 6,
  Jul: 7,
  Aug: 8,
  Sep: 9,
  Oct: 10,
  Nov: 11,
  Dec: 12,
};
const CEF_DATE = /^(\w{3}) (\d{1,2}) (\d{4}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{3}))?(?: (\S+))?$/;

/**
 * `rt` is epoch milliseconds or `MMM dd yyyy HH:mm:ss[.SSS][ zone]`; without a zone the device's local
 * time, read in the source's zone.
 */
function cefTime(value: string | undefined, zone: string): number | undefined {
  if (!value) return undefined;
  if (/^\d{12,13}$/.test(value)) return Number(value);
  const m = CEF_DATE.exec(value);
  if (!m) return undefined;
  const month = MONTHS[m[1]!];
  if (month === undefined) return undefined;
  let tz = zone;
  if (m[8]) {
    if (m[8] === 'UTC' || m[8] === 'GMT' || m[8] === 'Z') tz = 'UTC';
    else if (/^[A-Za-z]+\/[A-Za-z_]+$/.test(m[8])) tz = m[8];
  }
  try {
    return zonedTimeToEpoch(
      tz,
      Number(m[3]),
      month,
      Number(m[2]),
      Number(m[4]),
      Number(m[5]),
      Number(m[6]),
      Number(m[7] ?? 0),
    );
  } catch {
    return undefined; // an unknown zone name
  }
}
