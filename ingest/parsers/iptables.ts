import { addRelated, type EcsEvent, setSourceAddress } from '../ecs.js';
import { KeySelector, SelectedKeyValues } from './key-value.js';
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

/** The keys the mapping reads; `IPTABLES_KEYS` are copied under `iptables.*`, lowercased, in this order. */
const IPTABLES_KEYS = [
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
] as const;
const IPTABLES_FIELDS = IPTABLES_KEYS.map((key) => key.toLowerCase());
const NETFILTER_KEYS = new KeySelector([
  'IN',
  'OUT',
  'SRC',
  'SPT',
  'DST',
  'DPT',
  'MAC',
  'PROTO',
  ...IPTABLES_KEYS,
] as const);
const K = NETFILTER_KEYS.index;
/** The bare words the mapping reads: TCP flags (kept in order, repeats included) and DF. */
const NETFILTER_FLAGS = new KeySelector([
  'SYN',
  'ACK',
  'FIN',
  'RST',
  'PSH',
  'URG',
  'ECE',
  'CWR',
  'DF',
] as const);
const DF_FLAG = NETFILTER_FLAGS.index.DF;
/**
 * One scan reused line after line (parsing is synchronous): parseKeyValues' rules without backslash escapes
 * (the kernel writes none), keys matched in place, and only the values and flags the mapping reads become
 * strings. A map of every key and value cost a substring for each, each key then interned as a property
 * name (2.2 KB and most of the parser's time for an iptables line).
 */
const f = new SelectedKeyValues(NETFILTER_KEYS, { escapes: false, flags: NETFILTER_FLAGS });

function parseNetfilter(message: string, inAt: number, event: EcsEvent): void {
  let prefix = message.slice(0, inAt);
  if (prefix.startsWith('[')) {
    const close = prefix.indexOf(']');
    // `[ 1234.5678] ` kernel uptime stamp, not part of the rule prefix (UFW's `[UFW BLOCK]` has letters).
    if (close > 0 && /^\[\s*\d+\.\d+\]$/.test(prefix.slice(0, close + 1))) prefix = prefix.slice(close + 1);
  }
  prefix = prefix.trim();
  f.scan(message, inAt);
  const iptables: Record<string, unknown> = {};
  const observer: Record<string, unknown> = { type: 'firewall' };
  if (f.filled(K.IN)) observer.ingress = { interface: { name: f.get(K.IN) } };
  if (f.filled(K.OUT)) observer.egress = { interface: { name: f.get(K.OUT) } };
  event.observer = observer as EcsEvent['observer'];
  const source = f.get(K.SRC);
  if (source) setSourceAddress(event, source, f.int(K.SPT));
  const destinationIp = f.get(K.DST);
  if (destinationIp) {
    const destination = event.destination ?? {};
    destination.ip = destinationIp;
    const port = f.int(K.DPT);
    if (port !== undefined) destination.port = port;
    event.destination = destination;
    addRelated(event, 'ip', destinationIp);
  }
  if (f.length(K.MAC) >= 35) {
    // dst(6 bytes):src(6 bytes):ethertype(2)
    const octets = f.get(K.MAC)!.split(':');
    if (octets.length >= 12) {
      event.destination = { ...event.destination, mac: octets.slice(0, 6).join('-').toUpperCase() };
      event.source = { ...event.source, mac: octets.slice(6, 12).join('-').toUpperCase() };
    }
  }
  const network: Record<string, unknown> = {};
  if (f.filled(K.PROTO)) network.transport = f.get(K.PROTO)!.toLowerCase();
  if (source) network.type = source.includes(':') ? 'ipv6' : 'ipv4';
  const length = f.int(K.LEN);
  if (length !== undefined) network.bytes = length;
  event.network = network;
  for (let k = 0; k < IPTABLES_KEYS.length; k++) {
    const value = f.get(K[IPTABLES_KEYS[k]!]);
    if (value !== undefined) iptables[IPTABLES_FIELDS[k]!] = value;
  }
  let tcpFlags: string[] | undefined;
  let dontFragment = false;
  for (let k = 0; k < f.flagCount; k++) {
    const flag = f.flag(k);
    if (flag === DF_FLAG) dontFragment = true;
    else if (tcpFlags === undefined) tcpFlags = [NETFILTER_FLAGS.keys[flag]!];
    else tcpFlags.push(NETFILTER_FLAGS.keys[flag]!);
  }
  if (tcpFlags !== undefined) iptables.tcp = { flags: tcpFlags };
  if (dontFragment) iptables.fragment_flags = 'DF';
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
