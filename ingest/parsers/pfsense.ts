import { addRelated, type EcsEvent, setSourceAddress } from '../ecs.js';
import { splitCsv } from './csv-fields.js';
import { toInt } from './key-value.js';
import { invalid, PARSED, type ParseOutcome, type SourceParser } from './source-parser.js';

/**
 * pfSense / OPNsense packet filter log (`filterlog`), the CSV of pfSense 2.2+:
 * `rule,subrule,anchor,tracker,interface,reason,action,direction,ipversion,<ip fields>,<protocol fields>`.
 */
export const pfsenseParser: SourceParser = {
  id: 'pfsense',
  programs: ['filterlog'],
  parse: parsePfsense,
};

function parsePfsense(message: string, event: EcsEvent): ParseOutcome {
  event.event.module = 'pfsense';
  event.event.dataset = 'pfsense.log';
  const f = splitCsv(message);
  if (f.length < 9 || (f[8] !== '4' && f[8] !== '6'))
    return invalid('filterlog line without rule/action/ip version');
  const [, , , tracker, iface, reason, action, direction, version] = f as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  let protocol: string | undefined;
  let length: string | undefined;
  let src: string | undefined;
  let dst: string | undefined;
  let next: number;
  if (version === '4') {
    protocol = f[16];
    length = f[17];
    src = f[18];
    dst = f[19];
    next = 20;
  } else {
    protocol = f[12];
    length = f[14];
    src = f[15];
    dst = f[16];
    next = 17;
  }
  const transport = protocol?.toLowerCase();
  const ports = transport === 'tcp' || transport === 'udp';
  if (src) setSourceAddress(event, src, ports ? toInt(f[next]) : undefined);
  if (dst) {
    const destination: NonNullable<EcsEvent['destination']> = { ip: dst };
    const port = ports ? toInt(f[next + 1]) : undefined;
    if (port !== undefined) destination.port = port;
    event.destination = destination;
    addRelated(event, 'ip', dst);
  }
  const network: Record<string, unknown> = { type: version === '4' ? 'ipv4' : 'ipv6' };
  if (transport) network.transport = transport;
  if (direction === 'in' || direction === 'out')
    network.direction = direction === 'in' ? 'inbound' : 'outbound';
  const bytes = toInt(length);
  if (bytes !== undefined) network.bytes = bytes;
  event.network = network;
  event.observer = { vendor: 'Netgate', product: 'pfSense', type: 'firewall' };
  if (iface) {
    if (direction === 'out') event.observer.egress = { interface: { name: iface } };
    else event.observer.ingress = { interface: { name: iface } };
  }
  if (tracker) event.rule = { id: tracker, ...(f[0] ? { ruleset: f[0] } : {}) };
  const pfsense: Record<string, string> = { reason: reason ?? '' };
  if (transport === 'tcp' && f[next + 3]) pfsense.tcp_flags = f[next + 3]!;
  event.pfsense = pfsense;
  event.event.kind = 'event';
  event.event.category = ['network'];
  event.event.action = action;
  event.event.type =
    action === 'block' || action === 'reject' ? ['connection', 'denied'] : ['connection', 'allowed'];
  return PARSED;
}
