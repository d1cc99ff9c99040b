import { addRelated, type EcsEvent, setSourceAddress, setUserName } from '../ecs.js';
import { zonedTimeToEpoch } from '../envelope/zoned-time.js';
import { isoOf } from '../iso.js';
import { splitCsv } from './csv-fields.js';
import { toInt } from './key-value.js';
import { invalid, PARSED, type ParseContext, type ParseOutcome, type SourceParser } from './source-parser.js';

/**
 * Palo Alto Networks PAN-OS syslog in the default CSV format, TRAFFIC and THREAT logs (other types keep
 * the type, subtype and times). Field positions are those of PAN-OS 8–11; times are the firewall's local
 * time, read in the source's zone.
 */
export const paloAltoParser: SourceParser = {
  id: 'paloalto',
  sniff: (message) => PAN_LINE.test(message),
  parse: parsePaloAlto,
};

const PAN_LINE =
  /^[^,]*,\d{4}\/\d{2}\/\d{2} \d{2}:\d{2}:\d{2},[^,]*,(TRAFFIC|THREAT|SYSTEM|CONFIG|GLOBALPROTECT|USERID|AUTH|HIPMATCH|DECRYPTION|TUNNEL),/;

const THREAT_SEVERITY: Record<string, number> = { informational: 1, low: 2, medium: 3, high: 4, critical: 5 };

function parsePaloAlto(
  message: string,
  event: EcsEvent,
  _envelope: unknown,
  context?: ParseContext,
): ParseOutcome {
  event.event.module = 'panw';
  event.event.dataset = 'panw.panos';
  const f = splitCsv(message);
  const type = f[3];
  if (f.length < 7 || !type)
    return invalid(`PAN-OS CSV with ${f.length} fields (type, subtype and times need 7)`);
  event.observer = { vendor: 'Palo Alto Networks', product: 'PAN-OS', type: 'firewall' };
  if (f[2]) event.observer.serial_number = f[2];
  const time = panTime(f[6] || f[1], context?.timezone ?? 'Asia/Ho_Chi_Minh');
  if (time !== undefined) event['@timestamp'] = isoOf(time);
  const panos: Record<string, unknown> = { type, subtype: f[4] };
  event.panw = { panos };
  event.event.kind = 'event';
  if (type !== 'TRAFFIC' && type !== 'THREAT') {
    event.event.action = f[4]?.toLowerCase();
    return PARSED;
  }
  if (f.length < 31) return invalid(`PAN-OS ${type} log with ${f.length} fields`);
  if (f[7]) setSourceAddress(event, f[7], toInt(f[24]));
  if (f[8]) {
    const destination: NonNullable<EcsEvent['destination']> = { ip: f[8] };
    const port = toInt(f[25]);
    if (port !== undefined) destination.port = port;
    if (f[10] && f[10] !== '0.0.0.0')
      destination.nat = { ip: f[10], ...(toInt(f[27]) ? { port: toInt(f[27]) } : {}) };
    event.destination = destination;
    addRelated(event, 'ip', f[8]);
  }
  if (f[9] && f[9] !== '0.0.0.0' && event.source)
    event.source.nat = { ip: f[9], ...(toInt(f[26]) ? { port: toInt(f[26]) } : {}) };
  if (f[11]) event.rule = { name: f[11] };
  if (f[12]) {
    const slash = f[12].indexOf('\\');
    setUserName(event, slash > 0 ? f[12].slice(slash + 1) : f[12]);
    if (slash > 0) event.user!.domain = f[12].slice(0, slash);
  }
  const network: Record<string, unknown> = {};
  if (f[29]) network.transport = f[29].toLowerCase();
  if (f[14]) network.application = f[14];
  event.network = network;
  event.observer.ingress = { zone: f[16], interface: { name: f[18] ?? '' } };
  event.observer.egress = { zone: f[17], interface: { name: f[19] ?? '' } };
  panos.session_id = f[22];
  const action = f[30];
  event.event.action = action;
  const denied = action !== undefined && action !== 'allow' && action !== 'alert';
  if (type === 'TRAFFIC') {
    event.event.category = ['network'];
    event.event.type = denied
      ? ['connection', 'denied']
      : ['connection', f[4] === 'start' ? 'start' : 'end', 'allowed'];
    const bytes = toInt(f[31]);
    if (bytes !== undefined) network.bytes = bytes;
    const sent = toInt(f[32]);
    if (sent !== undefined && event.source) event.source.bytes = sent;
    const received = toInt(f[33]);
    if (received !== undefined && event.destination) event.destination.bytes = received;
    const packets = toInt(f[34]);
    if (packets !== undefined) network.packets = packets;
    if (f[37]) panos.url_category = f[37];
  } else {
    event.event.kind = 'alert';
    const subtype = f[4] ?? '';
    event.event.category =
      subtype === 'virus' || subtype === 'wildfire-virus' || subtype === 'wildfire'
        ? ['malware']
        : subtype === 'url'
          ? ['network', 'web']
          : ['intrusion_detection', 'network'];
    event.event.type = denied ? ['denied'] : ['info'];
    const threat = f[32] ?? '';
    const open = threat.lastIndexOf('(');
    panos.threat =
      open > 0 ? { name: threat.slice(0, open).trim(), id: threat.slice(open + 1, -1) } : { name: threat };
    if (f[33]) panos.url_category = f[33];
    const severity = THREAT_SEVERITY[f[34] ?? ''];
    if (severity !== undefined) event.event.severity = severity;
    // client-to-server says who spoke first, not which side of the perimeter: kept as PAN-OS wrote it.
    if (f[35]) panos.direction = f[35];
    if (subtype === 'url' && f[31]) event.url = { original: f[31] };
    else if (f[31]) event.file = { name: f[31] };
  }
  return PARSED;
}

/** `2024/01/05 10:00:00` in the device's zone. */
function panTime(text: string | undefined, zone: string): number | undefined {
  if (text?.length !== 19) return undefined;
  const parts = [
    text.slice(0, 4),
    text.slice(5, 7),
    text.slice(8, 10),
    text.slice(11, 13),
    text.slice(14, 16),
    text.slice(17, 19),
  ].map(Number);
  if (!parts.every(Number.isFinite)) return undefined;
  const [y, mo, d, h, mi, s] = parts as [number, number, number, number, number, number];
  return zonedTimeToEpoch(zone, y, mo, d, h, mi, s, 0);
}
