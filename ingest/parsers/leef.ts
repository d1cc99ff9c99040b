import { addRelated, type EcsEvent, setSourceAddress, setUserName } from '../ecs.js';
import { isoOf } from '../iso.js';
import { invalid, PARSED, type ParseOutcome, type SourceParser } from './source-parser.js';

/**
 * IBM QRadar Log Event Extended Format: `LEEF:1.0|Vendor|Product|Version|EventID|k=v<TAB>k=v...` and
 * LEEF 2.0, which adds a delimiter field after EventID (a character, or `xHH`/`0xHH` for its code).
 * The predefined keys map to ECS; all attributes are kept under `leef.attributes`.
 */
export const leefParser: SourceParser = {
  id: 'leef',
  sniff: (message) => message.startsWith('LEEF:'),
  parse: parseLeef,
};

function parseLeef(message: string, event: EcsEvent): ParseOutcome {
  event.event.module = 'leef';
  event.event.dataset = 'leef.log';
  const parts: string[] = [];
  let at = 5;
  const headerFields = message.startsWith('LEEF:2.0') ? 6 : 5;
  for (let n = 0; n < headerFields; n++) {
    const bar = message.indexOf('|', at);
    if (bar < 0) return invalid(`LEEF header has ${n} of ${headerFields} fields`);
    parts.push(message.slice(at, bar));
    at = bar + 1;
  }
  const [version, vendor, product, deviceVersion, eventId, delimiterField] = parts as [
    string,
    string,
    string,
    string,
    string,
    string?,
  ];
  let delimiter = '\t';
  if (delimiterField !== undefined && delimiterField !== '') {
    const hex = /^(?:0x|x)([0-9a-fA-F]{1,4})$/.exec(delimiterField);
    delimiter = hex ? String.fromCharCode(Number.parseInt(hex[1]!, 16)) : delimiterField[0]!;
  }
  const attributes: Record<string, string> = {};
  for (const pair of message.slice(at).split(delimiter)) {
    const eq = pair.indexOf('=');
    if (eq > 0) attributes[pair.slice(0, eq).trim()] = pair.slice(eq + 1);
  }
  event.leef = { version, vendor, product, product_version: deviceVersion, event_id: eventId, attributes };
  event.observer = { vendor, product };
  event.event.kind = 'event';
  event.event.code = eventId;
  const a = attributes;
  if (a.src) setSourceAddress(event, a.src, port(a.srcPort));
  if (a.dst) {
    const destination: NonNullable<EcsEvent['destination']> = { ip: a.dst };
    const p = port(a.dstPort);
    if (p !== undefined) destination.port = p;
    event.destination = destination;
    addRelated(event, 'ip', a.dst);
  }
  if (a.usrName) setUserName(event, a.usrName);
  if (a.proto) event.network = { transport: a.proto.toLowerCase() };
  if (a.sev !== undefined && Number.isFinite(Number(a.sev))) event.event.severity = Number(a.sev);
  if (a.action) event.event.action = a.action;
  if (a.url) event.url = { original: a.url };
  const srcBytes = Number(a.srcBytes);
  if (a.srcBytes && Number.isFinite(srcBytes) && event.source) event.source.bytes = srcBytes;
  const dstBytes = Number(a.dstBytes);
  if (a.dstBytes && Number.isFinite(dstBytes) && event.destination) event.destination.bytes = dstBytes;
  if (a.devTime && /^\d{12,13}$/.test(a.devTime)) event['@timestamp'] = isoOf(Number(a.devTime));
  return PARSED;
}

function port(value: string | undefined): number | undefined {
  const n = Number(value);
  return value !== undefined && Number.isInteger(n) && n >= 0 && n <= 65535 ? n : undefined;
}
