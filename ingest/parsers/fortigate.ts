import { addRelated, type EcsEvent, setSourceAddress, setUserName } from '../ecs.js';
import { zonedTimeToEpoch } from '../envelope/zoned-time.js';
import { isoOf } from '../iso.js';
import { KeySelector, parseSelectedKeyValues, toInt, transportName } from './key-value.js';
import { invalid, PARSED, type ParseContext, type ParseOutcome, type SourceParser } from './source-parser.js';

/**
 * FortiGate (FortiOS 6/7) key=value logs, usually sent with a PRI and no syslog header:
 * `date=2024-01-05 time=10:00:00 devname="FG100E" devid="FG100E..." logid="0000000013" type="traffic"
 * subtype="forward" ...`. Mapped like Elastic's Fortinet integration: traffic → network connection,
 * utm → the UTM category, event → system/VPN/admin activity (logins become authentication events).
 * The event time comes from `eventtime` (epoch, any precision) or `date`+`time`+`tz`.
 */
export const fortigateParser: SourceParser = {
  id: 'fortigate',
  sniff: (message) =>
    (message.startsWith('date=') || message.startsWith('logver=') || message.startsWith('eventtime=')) &&
    message.includes('devid=') &&
    message.includes('logid='),
  parse: parseFortigate,
};

/** Fields kept under `fortinet.firewall` (the rest of the log is in event.original). */
const FORTINET_FIELDS = [
  'type',
  'subtype',
  'vd',
  'level',
  'logdesc',
  'service',
  'policytype',
  'crscore',
  'craction',
  'utmaction',
  'tunneltype',
  'tunnelid',
  'reason',
  'status',
  'ui',
  'method',
] as const;

/** Every FortiGate key the mapping reads: the others stay in event.original only and are not copied. */
const KEYS = new KeySelector([
  ...FORTINET_FIELDS,
  ...'action app attack attackid catdesc cfgpath date devid devname dstintf dstip dstport eventtime filename hostname level locip locport logdesc logid msg policyid policyname proto qname qtype rcvdbyte rcvdpkt remip remport sentbyte sentpkt service srcintf srcip srcmac srcport srcuser status subtype time transip transport type tz ui unauthuser url user virus'.split(
    ' ',
  ),
]);

function parseFortigate(
  message: string,
  event: EcsEvent,
  _envelope: unknown,
  context?: ParseContext,
): ParseOutcome {
  event.event.module = 'fortinet';
  event.event.dataset = 'fortinet.firewall';
  const f = parseSelectedKeyValues(message, 0, KEYS);
  if (f.logid === undefined || f.type === undefined) return invalid('FortiGate log without logid/type');
  event.event.kind = 'event';
  event.event.code = f.logid;
  event.observer = { vendor: 'Fortinet', product: 'FortiGate', type: 'firewall' };
  if (f.devname) event.observer.name = f.devname;
  if (f.devid) event.observer.serial_number = f.devid;
  if (f.srcintf) event.observer.ingress = { interface: { name: f.srcintf } };
  if (f.dstintf) event.observer.egress = { interface: { name: f.dstintf } };
  const time = eventTime(f, context?.timezone ?? 'Asia/Ho_Chi_Minh');
  if (time !== undefined) event['@timestamp'] = isoOf(time);
  if (f.msg) event.message = f.msg;
  if (f.level) event.log = { ...event.log, level: f.level };

  endpoints(f, event);
  if (f.policyid || f.policyname) {
    event.rule = {
      ...(f.policyid ? { id: f.policyid } : {}),
      ...(f.policyname ? { name: f.policyname } : {}),
    };
  }
  const fortinet: Record<string, string> = {};
  for (const key of FORTINET_FIELDS) {
    const value = f[key];
    if (value !== undefined) fortinet[key] = value;
  }
  event.fortinet = { firewall: fortinet };

  switch (f.type) {
    case 'traffic':
      traffic(f, event);
      break;
    case 'utm':
      utm(f, event);
      break;
    case 'event':
      systemEvent(f, event);
      break;
    default:
      event.event.action = f.action;
  }
  return PARSED;
}

function endpoints(f: Record<string, string>, event: EcsEvent): void {
  const sourceIp = f.srcip ?? f.remip;
  if (sourceIp) setSourceAddress(event, sourceIp, toInt(f.srcport ?? f.remport));
  const source = event.source;
  if (source) {
    const bytes = toInt(f.sentbyte);
    if (bytes !== undefined) source.bytes = bytes;
    const packets = toInt(f.sentpkt);
    if (packets !== undefined) source.packets = packets;
    if (f.transip)
      source.nat = {
        ip: f.transip,
        ...(toInt(f.transport) !== undefined ? { port: toInt(f.transport) } : {}),
      };
    if (f.srcmac) source.mac = f.srcmac.replaceAll(':', '-').toUpperCase();
  }
  const destinationIp = f.dstip ?? f.locip;
  if (destinationIp) {
    const destination: NonNullable<EcsEvent['destination']> = { ip: destinationIp };
    const port = toInt(f.dstport ?? f.locport);
    if (port !== undefined) destination.port = port;
    const bytes = toInt(f.rcvdbyte);
    if (bytes !== undefined) destination.bytes = bytes;
    const packets = toInt(f.rcvdpkt);
    if (packets !== undefined) destination.packets = packets;
    event.destination = destination;
    addRelated(event, 'ip', destinationIp);
  }
  const user = f.user ?? f.srcuser ?? f.unauthuser;
  if (user && user !== 'N/A') setUserName(event, user);
  const network: Record<string, unknown> = {};
  const transport = transportName(f.proto);
  if (transport) network.transport = transport;
  if (f.app) network.application = f.app.toLowerCase();
  if (f.service) network.protocol = f.service.toLowerCase();
  const sent = toInt(f.sentbyte);
  const received = toInt(f.rcvdbyte);
  if (sent !== undefined || received !== undefined) network.bytes = (sent ?? 0) + (received ?? 0);
  if (Object.keys(network).length > 0) event.network = network;
}

function traffic(f: Record<string, string>, event: EcsEvent): void {
  const action = f.action;
  event.event.category = ['network'];
  if (action !== undefined) event.event.action = action;
  if (action === undefined) {
    event.event.type = ['connection'];
  } else if (action === 'deny' || action === 'block' || action === 'dropped') {
    event.event.type = ['connection', 'denied'];
  } else if (action === 'start') {
    event.event.type = ['connection', 'start', 'allowed'];
  } else {
    event.event.type = ['connection', 'end', 'allowed'];
  }
}

const UTM_CATEGORY: Record<string, string[]> = {
  virus: ['malware'],
  ips: ['intrusion_detection', 'network'],
  anomaly: ['intrusion_detection', 'network'],
  webfilter: ['network', 'web'],
  'app-ctrl': ['network'],
  dns: ['network'],
  dlp: ['network'],
  'file-filter': ['file'],
  emailfilter: ['email'],
  waf: ['intrusion_detection', 'web'],
  ssl: ['network'],
};

function utm(f: Record<string, string>, event: EcsEvent): void {
  event.event.category = UTM_CATEGORY[f.subtype ?? ''] ?? ['network'];
  event.event.action = f.action ?? f.subtype;
  const blocked =
    f.action === 'blocked' || f.action === 'dropped' || f.action === 'reset' || f.action === 'block';
  event.event.type = blocked ? ['denied'] : ['info'];
  if (f.subtype === 'ips' || f.subtype === 'anomaly' || f.subtype === 'virus') event.event.kind = 'alert';
  if (f.attack || f.virus) event.rule = { ...(event.rule as object), name: f.attack ?? f.virus };
  if (f.attackid) event.vulnerability = { id: f.attackid };
  if (f.hostname || f.url) {
    const url: Record<string, string> = {};
    if (f.hostname) url.domain = f.hostname;
    if (f.url) {
      url.original = f.url;
      const schemeEnd = f.url.indexOf('://');
      // Web filter logs carry the full URL, IPS logs the path only.
      const pathStart = schemeEnd > 0 ? f.url.indexOf('/', schemeEnd + 3) : 0;
      if (schemeEnd > 0) {
        url.scheme = f.url.slice(0, schemeEnd);
        url.domain ??= f.url.slice(schemeEnd + 3, pathStart < 0 ? undefined : pathStart);
      }
      if (pathStart >= 0) {
        const target = f.url.slice(pathStart);
        const query = target.indexOf('?');
        url.path = query < 0 ? target : target.slice(0, query);
        if (query >= 0) url.query = target.slice(query + 1);
      }
    }
    event.url = url;
  }
  if (f.qname) event.dns = { question: { name: f.qname, ...(f.qtype ? { type: f.qtype } : {}) } };
  if (f.filename) event.file = { name: f.filename };
  if (f.catdesc)
    event.fortinet = {
      firewall: { ...(event.fortinet as { firewall: object }).firewall, catdesc: f.catdesc },
    };
}

function systemEvent(f: Record<string, string>, event: EcsEvent): void {
  const action = f.action ?? f.logdesc;
  event.event.action = action;
  const failed =
    f.status === 'failed' ||
    f.status === 'failure' ||
    f.action === 'ssl-login-fail' ||
    action?.includes('fail');
  const login =
    f.action === 'login' || f.action === 'ssl-login-fail' || f.logdesc?.toLowerCase().includes('login');
  if (f.subtype === 'system' || f.subtype === 'user' || f.subtype === 'vpn') {
    if (login) {
      event.event.category = ['authentication'];
      event.event.type = ['start'];
      event.event.outcome = failed ? 'failure' : 'success';
      // Admin logins say where from in `ui` (`https(203.0.113.5)`, `ssh(10.0.0.1)`) when there is no srcip.
      if (!event.source && f.ui) {
        const open = f.ui.indexOf('(');
        if (open > 0) setSourceAddress(event, f.ui.slice(open + 1, f.ui.indexOf(')', open)));
      }
    } else if (f.action === 'logout') {
      event.event.category = ['authentication'];
      event.event.type = ['end'];
    } else if (f.subtype === 'vpn') {
      event.event.category = ['network'];
      event.event.type = f.action === 'tunnel-down' ? ['connection', 'end'] : ['connection', 'start'];
    } else if (f.cfgpath || f.action === 'Edit' || f.action === 'Add' || f.action === 'Delete') {
      event.event.category = ['configuration'];
      event.event.type = ['change'];
    } else {
      event.event.category = ['host'];
      event.event.type = ['info'];
    }
  }
  if (f.status && !event.event.outcome) {
    if (f.status === 'success') event.event.outcome = 'success';
    else if (failed) event.event.outcome = 'failure';
  }
}

/** `eventtime` (s, ms, µs or ns since epoch), else `date` + `time` in `tz` (`+0700`), else nothing. */
function eventTime(f: Record<string, string>, zone: string): number | undefined {
  if (f.eventtime && /^\d{10,19}$/.test(f.eventtime)) {
    const digits = f.eventtime.length;
    const value = Number(f.eventtime);
    return digits <= 10
      ? value * 1000
      : digits <= 13
        ? value
        : digits <= 16
          ? Math.floor(value / 1e3)
          : Math.floor(value / 1e6);
  }
  const date = f.date;
  const time = f.time;
  if (!date || !time || date.length !== 10 || time.length < 8) return undefined;
  const y = Number(date.slice(0, 4));
  const mo = Number(date.slice(5, 7));
  const d = Number(date.slice(8, 10));
  const h = Number(time.slice(0, 2));
  const mi = Number(time.slice(3, 5));
  const s = Number(time.slice(6, 8));
  if (![y, mo, d, h, mi, s].every(Number.isFinite)) return undefined;
  const tz = f.tz;
  if (tz && /^[+-]\d{4}$/.test(tz)) {
    const offset = (tz[0] === '-' ? -1 : 1) * (Number(tz.slice(1, 3)) * 60 + Number(tz.slice(3, 5)));
    return Date.UTC(y, mo - 1, d, h, mi, s) - offset * 60_000;
  }
  // Without `tz` the device logged its local time: read it in the source's zone.
  return zonedTimeToEpoch(zone, y, mo, d, h, mi, s, 0);
}
