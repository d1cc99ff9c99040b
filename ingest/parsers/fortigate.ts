import { addRelated, type EcsEvent, setSourceAddress, setUserName } from '../ecs.js';
import { zonedTimeToEpoch } from '../envelope/zoned-time.js';
import { isoOf } from '../iso.js';
import { KeySelector, SelectedKeyValues, transportName } from './key-value.js';
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

/** Every FortiGate key the mapping reads: the others stay in event.original only and are not copied. */
const KEYS = new KeySelector([
  // Kept under fortinet.firewall (fortinetFields).
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
  // Mapped to ECS.
  'action',
  'app',
  'attack',
  'attackid',
  'catdesc',
  'cfgpath',
  'date',
  'devid',
  'devname',
  'dstintf',
  'dstip',
  'dstport',
  'eventtime',
  'filename',
  'hostname',
  'locip',
  'locport',
  'logid',
  'msg',
  'policyid',
  'policyname',
  'proto',
  'qname',
  'qtype',
  'rcvdbyte',
  'rcvdpkt',
  'remip',
  'remport',
  'sentbyte',
  'sentpkt',
  'srcintf',
  'srcip',
  'srcmac',
  'srcport',
  'srcuser',
  'time',
  'transip',
  'transport',
  'tz',
  'unauthuser',
  'url',
  'user',
  'virus',
] as const);
/** Slot of each key in a scan: `f.get(K.srcip)`. */
const K = KEYS.index;
/** One scan reused line after line: parsing is synchronous and never re-enters. */
const f = new SelectedKeyValues(KEYS);
type Fields = typeof f;

function parseFortigate(
  message: string,
  event: EcsEvent,
  _envelope: unknown,
  context?: ParseContext,
): ParseOutcome {
  event.event.module = 'fortinet';
  event.event.dataset = 'fortinet.firewall';
  f.scan(message, 0);
  if (!f.has(K.logid) || !f.has(K.type)) return invalid('FortiGate log without logid/type');
  event.event.kind = 'event';
  event.event.code = f.get(K.logid);
  const observer: NonNullable<EcsEvent['observer']> = {
    vendor: 'Fortinet',
    product: 'FortiGate',
    type: 'firewall',
  };
  if (f.filled(K.devname)) observer.name = f.get(K.devname);
  if (f.filled(K.devid)) observer.serial_number = f.get(K.devid);
  if (f.filled(K.srcintf)) observer.ingress = { interface: { name: f.get(K.srcintf)! } };
  if (f.filled(K.dstintf)) observer.egress = { interface: { name: f.get(K.dstintf)! } };
  event.observer = observer;
  const time = eventTime(f, context?.timezone ?? 'Asia/Ho_Chi_Minh');
  if (time !== undefined) event['@timestamp'] = isoOf(time);
  if (f.filled(K.msg)) event.message = f.get(K.msg)!;
  // The same string is written twice (log.level, fortinet.firewall.level): read it once.
  const level = f.get(K.level);
  if (level) {
    event.log ??= {};
    event.log.level = level;
  }

  endpoints(f, event);
  if (f.filled(K.policyid) || f.filled(K.policyname)) {
    const rule: Record<string, string> = {};
    if (f.filled(K.policyid)) rule.id = f.get(K.policyid)!;
    if (f.filled(K.policyname)) rule.name = f.get(K.policyname)!;
    event.rule = rule;
  }
  const fortinet = fortinetFields(f, level);
  event.fortinet = { firewall: fortinet };

  const type = fortinet.type;
  if (type === 'traffic') traffic(f, event);
  else if (type === 'utm') utm(f, event, fortinet);
  else if (type === 'event') systemEvent(f, event);
  else event.event.action = f.get(K.action);
  return PARSED;
}

/**
 * `fortinet.firewall`: the FortiGate fields kept as they are (the rest of the log is in event.original).
 * Written out rather than looped over a list of names: a store under a computed name goes through V8's
 * generic keyed store on every line, a named one does not.
 */
function fortinetFields(f: Fields, level: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (f.has(K.type)) out.type = f.get(K.type)!;
  if (f.has(K.subtype)) out.subtype = f.get(K.subtype)!;
  if (f.has(K.vd)) out.vd = f.get(K.vd)!;
  if (level !== undefined) out.level = level;
  if (f.has(K.logdesc)) out.logdesc = f.get(K.logdesc)!;
  if (f.has(K.service)) out.service = f.get(K.service)!;
  if (f.has(K.policytype)) out.policytype = f.get(K.policytype)!;
  if (f.has(K.crscore)) out.crscore = f.get(K.crscore)!;
  if (f.has(K.craction)) out.craction = f.get(K.craction)!;
  if (f.has(K.utmaction)) out.utmaction = f.get(K.utmaction)!;
  if (f.has(K.tunneltype)) out.tunneltype = f.get(K.tunneltype)!;
  if (f.has(K.tunnelid)) out.tunnelid = f.get(K.tunnelid)!;
  if (f.has(K.reason)) out.reason = f.get(K.reason)!;
  if (f.has(K.status)) out.status = f.get(K.status)!;
  if (f.has(K.ui)) out.ui = f.get(K.ui)!;
  if (f.has(K.method)) out.method = f.get(K.method)!;
  return out;
}

function endpoints(f: Fields, event: EcsEvent): void {
  const sourceIp = f.has(K.srcip) ? f.get(K.srcip) : f.get(K.remip);
  if (sourceIp) setSourceAddress(event, sourceIp, f.int(f.has(K.srcport) ? K.srcport : K.remport));
  const source = event.source;
  if (source) {
    const bytes = f.int(K.sentbyte);
    if (bytes !== undefined) source.bytes = bytes;
    const packets = f.int(K.sentpkt);
    if (packets !== undefined) source.packets = packets;
    if (f.filled(K.transip)) {
      const nat: NonNullable<typeof source.nat> = { ip: f.get(K.transip)! };
      const port = f.int(K.transport);
      if (port !== undefined) nat.port = port;
      source.nat = nat;
    }
    if (f.filled(K.srcmac)) source.mac = f.get(K.srcmac)!.replaceAll(':', '-').toUpperCase();
  }
  const destinationIp = f.has(K.dstip) ? f.get(K.dstip) : f.get(K.locip);
  if (destinationIp) {
    const destination: NonNullable<EcsEvent['destination']> = { ip: destinationIp };
    const port = f.int(f.has(K.dstport) ? K.dstport : K.locport);
    if (port !== undefined) destination.port = port;
    const bytes = f.int(K.rcvdbyte);
    if (bytes !== undefined) destination.bytes = bytes;
    const packets = f.int(K.rcvdpkt);
    if (packets !== undefined) destination.packets = packets;
    event.destination = destination;
    addRelated(event, 'ip', destinationIp);
  }
  const userSlot = f.has(K.user) ? K.user : f.has(K.srcuser) ? K.srcuser : K.unauthuser;
  if (f.filled(userSlot) && !f.is(userSlot, 'N/A')) setUserName(event, f.get(userSlot)!);
  const network: Record<string, unknown> = {};
  let networkFields = 0;
  const transport = transportName(f.get(K.proto));
  if (transport) {
    network.transport = transport;
    networkFields++;
  }
  if (f.filled(K.app)) {
    network.application = lowerCase(f.get(K.app)!);
    networkFields++;
  }
  if (f.filled(K.service)) {
    network.protocol = lowerCase(f.get(K.service)!);
    networkFields++;
  }
  const sent = f.int(K.sentbyte);
  const received = f.int(K.rcvdbyte);
  if (sent !== undefined || received !== undefined) {
    network.bytes = (sent ?? 0) + (received ?? 0);
    networkFields++;
  }
  if (networkFields > 0) event.network = network;
}

/**
 * Lower case of the few names FortiGate repeats on every line (`HTTPS`, `DNS`, application names),
 * remembered so that each line does not make a new string; bounded, cleared when full.
 */
const lowerCaseCache = new Map<string, string>();
function lowerCase(value: string): string {
  let lower = lowerCaseCache.get(value);
  if (lower === undefined) {
    lower = value.toLowerCase();
    if (lowerCaseCache.size >= 1000) lowerCaseCache.clear();
    lowerCaseCache.set(value, lower);
  }
  return lower;
}

function traffic(f: Fields, event: EcsEvent): void {
  event.event.category = ['network'];
  if (!f.has(K.action)) {
    event.event.type = ['connection'];
    return;
  }
  event.event.action = f.get(K.action);
  if (f.is(K.action, 'deny') || f.is(K.action, 'block') || f.is(K.action, 'dropped')) {
    event.event.type = ['connection', 'denied'];
  } else if (f.is(K.action, 'start')) {
    event.event.type = ['connection', 'start', 'allowed'];
  } else {
    event.event.type = ['connection', 'end', 'allowed'];
  }
}

const UTM_CATEGORY = new Map<string, string[]>([
  ['virus', ['malware']],
  ['ips', ['intrusion_detection', 'network']],
  ['anomaly', ['intrusion_detection', 'network']],
  ['webfilter', ['network', 'web']],
  ['app-ctrl', ['network']],
  ['dns', ['network']],
  ['dlp', ['network']],
  ['file-filter', ['file']],
  ['emailfilter', ['email']],
  ['waf', ['intrusion_detection', 'web']],
  ['ssl', ['network']],
]);

function utm(f: Fields, event: EcsEvent, fortinet: Record<string, string>): void {
  const subtype = fortinet.subtype;
  const action = f.get(K.action);
  // A Map, not an object literal: a subtype such as `constructor` must not find Object's prototype.
  event.event.category = UTM_CATEGORY.get(subtype ?? '') ?? ['network'];
  event.event.action = action ?? subtype;
  const blocked = action === 'blocked' || action === 'dropped' || action === 'reset' || action === 'block';
  event.event.type = blocked ? ['denied'] : ['info'];
  if (subtype === 'ips' || subtype === 'anomaly' || subtype === 'virus') event.event.kind = 'alert';
  const attack = f.get(K.attack);
  const virus = f.get(K.virus);
  if (attack || virus) event.rule = { ...(event.rule as object), name: attack ?? virus };
  if (f.filled(K.attackid)) event.vulnerability = { id: f.get(K.attackid) };
  const hostname = f.get(K.hostname);
  const fullUrl = f.get(K.url);
  if (hostname || fullUrl) {
    const url: Record<string, string> = {};
    if (hostname) url.domain = hostname;
    if (fullUrl) {
      url.original = fullUrl;
      const schemeEnd = fullUrl.indexOf('://');
      // Web filter logs carry the full URL, IPS logs the path only.
      const pathStart = schemeEnd > 0 ? fullUrl.indexOf('/', schemeEnd + 3) : 0;
      if (schemeEnd > 0) {
        url.scheme = fullUrl.slice(0, schemeEnd);
        url.domain ??= fullUrl.slice(schemeEnd + 3, pathStart < 0 ? undefined : pathStart);
      }
      if (pathStart >= 0) {
        const target = fullUrl.slice(pathStart);
        const query = target.indexOf('?');
        url.path = query < 0 ? target : target.slice(0, query);
        if (query >= 0) url.query = target.slice(query + 1);
      }
    }
    event.url = url;
  }
  if (f.filled(K.qname)) {
    const question: Record<string, string> = { name: f.get(K.qname)! };
    if (f.filled(K.qtype)) question.type = f.get(K.qtype)!;
    event.dns = { question };
  }
  if (f.filled(K.filename)) event.file = { name: f.get(K.filename) };
  if (f.filled(K.catdesc)) fortinet.catdesc = f.get(K.catdesc)!;
}

function systemEvent(f: Fields, event: EcsEvent): void {
  const act = f.get(K.action);
  const logdesc = f.get(K.logdesc);
  const status = f.get(K.status);
  const subtype = f.get(K.subtype);
  const action = act ?? logdesc;
  event.event.action = action;
  const failed =
    status === 'failed' || status === 'failure' || act === 'ssl-login-fail' || action?.includes('fail');
  const login = act === 'login' || act === 'ssl-login-fail' || logdesc?.toLowerCase().includes('login');
  if (subtype === 'system' || subtype === 'user' || subtype === 'vpn') {
    if (login) {
      event.event.category = ['authentication'];
      event.event.type = ['start'];
      event.event.outcome = failed ? 'failure' : 'success';
      // Admin logins say where from in `ui` (`https(203.0.113.5)`, `ssh(10.0.0.1)`) when there is no srcip.
      const ui = f.get(K.ui);
      if (!event.source && ui) {
        const open = ui.indexOf('(');
        if (open > 0) setSourceAddress(event, ui.slice(open + 1, ui.indexOf(')', open)));
      }
    } else if (act === 'logout') {
      event.event.category = ['authentication'];
      event.event.type = ['end'];
    } else if (subtype === 'vpn') {
      event.event.category = ['network'];
      event.event.type = act === 'tunnel-down' ? ['connection', 'end'] : ['connection', 'start'];
    } else if (f.filled(K.cfgpath) || act === 'Edit' || act === 'Add' || act === 'Delete') {
      event.event.category = ['configuration'];
      event.event.type = ['change'];
    } else {
      event.event.category = ['host'];
      event.event.type = ['info'];
    }
  }
  if (status && !event.event.outcome) {
    if (status === 'success') event.event.outcome = 'success';
    else if (failed) event.event.outcome = 'failure';
  }
}

/** `eventtime` (s, ms, µs or ns since epoch), else `date` + `time` in `tz` (`+0700`), else nothing. */
function eventTime(f: Fields, zone: string): number | undefined {
  const digits = f.length(K.eventtime);
  if (digits >= 10 && digits <= 19) {
    // Whole milliseconds, cut (not rounded) from µs and ns as a clock would read them.
    const value = f.digits(K.eventtime, digits <= 13 ? 0 : digits <= 16 ? 3 : 6);
    if (value !== undefined) return digits <= 10 ? value * 1000 : value;
  }
  const date = f.get(K.date);
  const time = f.get(K.time);
  if (!date || !time || date.length !== 10 || time.length < 8) return undefined;
  const y = Number(date.slice(0, 4));
  const mo = Number(date.slice(5, 7));
  const d = Number(date.slice(8, 10));
  const h = Number(time.slice(0, 2));
  const mi = Number(time.slice(3, 5));
  const s = Number(time.slice(6, 8));
  if (![y, mo, d, h, mi, s].every(Number.isFinite)) return undefined;
  const tz = f.get(K.tz);
  if (tz && /^[+-]\d{4}$/.test(tz)) {
    const offset = (tz[0] === '-' ? -1 : 1) * (Number(tz.slice(1, 3)) * 60 + Number(tz.slice(3, 5)));
    return Date.UTC(y, mo - 1, d, h, mi, s) - offset * 60_000;
  }
  // Without `tz` the device logged its local time: read it in the source's zone.
  return zonedTimeToEpoch(zone, y, mo, d, h, mi, s, 0);
}
