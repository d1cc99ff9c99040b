import { addRelated, type EcsEvent, setSourceAddress } from '../ecs.js';
import { parseKeyValues, toInt } from './key-value.js';
import { PARSED, type SourceParser, UNRECOGNISED } from './source-parser.js';

/**
 * Netfilter LOG lines from iptables, nftables (`log prefix`) and UFW, written by the kernel:
 * `[123.456] <prefix>IN=eth0 OUT= MAC=... SRC=1.2.3.4 DST=5.6.7.8 LEN=60 ... PROTO=TCP SPT=1 DPT=22 ... SYN`.
 * The prefix is the rule's name; words in it (DROP, REJECT, BLOCK, DENY / ACCEPT, ALLOW) give the verdict.
 */
export const iptablesParser: SourceParser = {
  id: 'iptables',
  programs: ['kernel'],
  sniff: (message) => message.includes(' SRC=') && message.includes(' PROTO=') && message.includes('IN='),
  parse(message, event) {
    const inAt = findIn(message);
    if (inAt < 0) return UNRECOGNISED; // another kernel message
    event.event.module = 'iptables';
    event.event.dataset = 'iptables.log';
    parseNetfilter(message, inAt, event);
    return PARSED;
  },
};

/** Index of `IN=` at the start of the key list (the message may begin with `[uptime] prefix`). */
function findIn(message: string): number {
  let at = message.indexOf('IN=');
  while (at > 0) {
    const before = message.charCodeAt(at - 1);
    // `IN=` right after a space, `]`, `:` or the prefix's last character, followed later by ` OUT=`.
    if (message.startsWith(' OUT=', message.indexOf(' ', at)) && before !== 61) return at;
    at = message.indexOf('IN=', at + 3);
  }
  return at === 0 && message.includes(' OUT=') ? 0 : -1;
}

function parseNetfilter(message: string, inAt: number, event: EcsEvent): void {
  let prefix = message.slice(0, inAt);
  if (prefix.startsWith('[')) {
    const close = prefix.indexOf(']');
    // `[ 1234.5678] ` kernel uptime stamp, not part of the rule prefix (UFW's `[UFW BLOCK]` has letters).
    if (close > 0 && /^\[\s*\d+\.\d+\]$/.test(prefix.slice(0, close + 1))) prefix = prefix.slice(close + 1);
  }
  prefix = prefix.trim();
  const flags: string[] = [];
  const fields = parseKeyValues(message, inAt, { flags });
  const iptables: Record<string, unknown> = {};
  const observer: Record<string, unknown> = { type: 'firewall' };
  if (fields.IN) observer.ingress = { interface: { name: fields.IN } };
  if (fields.OUT) observer.egress = { interface: { name: fields.OUT } };
  event.observer = observer as EcsEvent['observer'];
  if (fields.SRC) setSourceAddress(event, fields.SRC, toInt(fields.SPT));
  if (fields.DST) {
    const destination = event.destination ?? {};
    destination.ip = fields.DST;
    const port = toInt(fields.DPT);
    if (port !== undefined) destination.port = port;
    event.destination = destination;
    addRelated(event, 'ip', fields.DST);
  }
  if (fields.MAC && fields.MAC.length >= 35) {
    // dst(6 bytes):src(6 bytes):ethertype(2)
    const octets = fields.MAC.split(':');
    if (octets.length >= 12) {
      event.destination = { ...event.destination, mac: octets.slice(0, 6).join('-').toUpperCase() };
      event.source = { ...event.source, mac: octets.slice(6, 12).join('-').toUpperCase() };
    }
  }
  const network: Record<string, unknown> = {};
  if (fields.PROTO) network.transport = fields.PROTO.toLowerCase();
  if (fields.SRC) network.type = fields.SRC.includes(':') ? 'ipv6' : 'ipv4';
  const length = toInt(fields.LEN);
  if (length !== undefined) network.bytes = length;
  event.network = network;
  for (const key of [
    'LEN',
    'TOS',
    'PREC',
    'TTL',
    'ID',
    'WINDOW',
    'RES',
    'URGP',
    'TC',
    'HOPLIMIT',
    'FLOWLBL',
    'TYPE',
    'CODE',
    'MARK',
  ]) {
    if (fields[key] !== undefined) iptables[key.toLowerCase()] = fields[key];
  }
  const tcpFlags = flags.filter((flag) =>
    ['SYN', 'ACK', 'FIN', 'RST', 'PSH', 'URG', 'ECE', 'CWR'].includes(flag),
  );
  if (tcpFlags.length > 0) iptables.tcp = { flags: tcpFlags };
  if (flags.includes('DF')) iptables.fragment_flags = 'DF';
  event.iptables = iptables;
  if (prefix) event.rule = { name: prefix };

  const verdict = prefix.toUpperCase();
  event.event.kind = 'event';
  event.event.category = ['network'];
  if (/DROP|REJECT|BLOCK|DENY|DENIED/.test(verdict)) {
    event.event.type = ['connection', 'denied'];
    event.event.action = 'dropped';
  } else if (/ACCEPT|ALLOW|PASS/.test(verdict)) {
    event.event.type = ['connection', 'allowed'];
    event.event.action = 'accepted';
  } else {
    event.event.type = ['connection'];
    event.event.action = 'logged';
  }
}
