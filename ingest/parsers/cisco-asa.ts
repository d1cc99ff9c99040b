import { addRelated, type EcsEvent, setSourceAddress, setUserName } from '../ecs.js';
import { toInt } from './key-value.js';
import { invalid, PARSED, type ParseOutcome, type SourceParser } from './source-parser.js';

/**
 * Cisco ASA / FTD / PIX messages, `%ASA-<level>-<id>: <text>`, for the ids an agency SOC sees most: ACL
 * denies (106xxx, 710003), connection build/teardown (302xxx), AAA and management logins (113xxx, 605xxx,
 * 611xxx), AnyConnect/WebVPN sessions (113039, 716xxx, 722xxx), threat detection (733100) and commands run
 * (111008/111010). Other ids keep `event.code` and the message. Field choices follow Elastic's cisco.asa.
 */
export const ciscoAsaParser: SourceParser = {
  id: 'cisco-asa',
  sniff: (message) => message.charCodeAt(0) === 37 && /^%(ASA|FTD|PIX|FWSM)-\d-\d{6}:/.test(message),
  parse: parseCiscoAsa,
};

const LEVELS = [
  'emergencies',
  'alerts',
  'critical',
  'errors',
  'warnings',
  'notifications',
  'informational',
  'debugging',
];

type Handler = (match: RegExpExecArray, event: EcsEvent) => void;
interface Rule {
  pattern: RegExp;
  handle: Handler;
}

const IP = '([0-9A-Fa-f:.]+)';
const ENDPOINT = String.raw`([^:\s]+):${IP}/(\d+)`; // iface:ip/port

function parseCiscoAsa(message: string, event: EcsEvent): ParseOutcome {
  const colon = message.indexOf(': ');
  const header = /^%(ASA|FTD|PIX|FWSM)-(\d)-(\d{6})$/.exec(colon < 0 ? message : message.slice(0, colon));
  if (!header) return invalid('Cisco ASA message without %ASA-<level>-<id>: header');
  const [, product, level, id] = header as unknown as [string, string, string, string];
  const text = colon < 0 ? '' : message.slice(colon + 2);
  event.event.module = 'cisco';
  event.event.dataset = 'cisco.asa';
  event.event.kind = 'event';
  event.event.code = id;
  event.event.severity = Number(level);
  event.log = { ...event.log, level: LEVELS[Number(level)] };
  event.observer = {
    vendor: 'Cisco',
    product: product === 'FTD' ? 'Firepower Threat Defense' : 'ASA',
    type: 'firewall',
  };
  event.cisco = { asa: { message_id: id } };
  event.message = text;
  for (const rule of RULES[id] ?? []) {
    const match = rule.pattern.exec(text);
    if (match) {
      rule.handle(match, event);
      break;
    }
  }
  return PARSED;
}

function source(event: EcsEvent, iface: string | undefined, ip: string, port?: string): void {
  setSourceAddress(event, ip, toInt(port));
  if (iface) event.observer!.ingress = { interface: { name: iface } };
}

function destination(event: EcsEvent, iface: string | undefined, ip: string, port?: string): void {
  const endpoint: NonNullable<EcsEvent['destination']> = { ip };
  const p = toInt(port);
  if (p !== undefined) endpoint.port = p;
  event.destination = endpoint;
  addRelated(event, 'ip', ip);
  if (iface) event.observer!.egress = { interface: { name: iface } };
}

function network(event: EcsEvent, protocol: string | undefined, direction?: string): void {
  const fields: Record<string, string> = {};
  if (protocol) fields.transport = protocol.toLowerCase();
  if (direction) fields.direction = direction === 'outbound' ? 'outbound' : 'inbound';
  event.network = fields;
}

function deny(event: EcsEvent, rule?: string): void {
  event.event.category = ['network'];
  event.event.type = ['connection', 'denied'];
  event.event.action = 'firewall-rule';
  event.event.outcome = 'failure';
  if (rule) event.rule = { name: rule };
}

function login(event: EcsEvent, success: boolean, user: string | undefined, reason?: string): void {
  event.event.category = ['authentication'];
  event.event.type = ['info'];
  event.event.action = success ? 'logged-in' : 'login-failed';
  event.event.outcome = success ? 'success' : 'failure';
  if (user) setUserName(event, user);
  if (reason) event.event.reason = reason;
}

function vpnSession(match: RegExpExecArray, event: EcsEvent, action: string, type: string): void {
  setUserName(event, match[2]!);
  setSourceAddress(event, match[3]!);
  event.cisco = { asa: { ...(event.cisco as { asa: object }).asa, group_policy: match[1] } };
  event.event.category = ['network', 'session'];
  event.event.type = [type];
  event.event.action = action;
}

const GROUP_USER_IP = 'Group <([^>]*)> User <([^>]*)> IP <([^>]*)>';

const RULES: Record<string, Rule[]> = {
  '106001': [
    {
      pattern: new RegExp(
        String.raw`^Inbound (\w+) connection denied from ${IP}/(\d+) to ${IP}/(\d+) flags .* on interface (\S+)`,
      ),
      handle: (m, e) => {
        source(e, m[6], m[2]!, m[3]);
        destination(e, undefined, m[4]!, m[5]);
        network(e, m[1], 'inbound');
        deny(e);
      },
    },
  ],
  '106006': [denyFromTo()],
  '106007': [denyFromTo()],
  '106015': [denyFromTo()],
  '106023': [
    {
      pattern: new RegExp(
        String.raw`^Deny (\w+) src ${ENDPOINT} dst ${ENDPOINT}.* by access-group "([^"]*)"`,
      ),
      handle: (m, e) => {
        source(e, m[2], m[3]!, m[4]);
        destination(e, m[5], m[6]!, m[7]);
        network(e, m[1]);
        deny(e, m[8]);
      },
    },
    {
      pattern: new RegExp(
        String.raw`^Deny (\w+) src ([^:\s]+):${IP} dst ([^:\s]+):${IP}.* by access-group "([^"]*)"`,
      ),
      handle: (m, e) => {
        source(e, m[2], m[3]!);
        destination(e, m[4], m[5]!);
        network(e, m[1]);
        deny(e, m[6]);
      },
    },
  ],
  '106100': [
    {
      pattern: new RegExp(
        String.raw`^access-list (\S+) (permitted|denied|est-allowed) (\w+) ([^/\s]+)/${IP}\((\d+)\) -> ([^/\s]+)/${IP}\((\d+)\)`,
      ),
      handle: (m, e) => {
        source(e, m[4], m[5]!, m[6]);
        destination(e, m[7], m[8]!, m[9]);
        network(e, m[3]);
        if (m[2] === 'denied') deny(e, m[1]);
        else {
          e.event.category = ['network'];
          e.event.type = ['connection', 'allowed'];
          e.event.action = 'firewall-rule';
          e.rule = { name: m[1] };
        }
      },
    },
  ],
  '302013': [built()],
  '302015': [built()],
  '302014': [teardown()],
  '302016': [teardown()],
  '302020': [icmp('flow-creation', 'start')],
  '302021': [icmp('flow-expiration', 'end')],
  '710003': [
    {
      pattern: new RegExp(String.raw`^(\w+) access denied by ACL from ${IP}/(\d+) to ${ENDPOINT}`),
      handle: (m, e) => {
        source(e, undefined, m[2]!, m[3]);
        destination(e, m[4], m[5]!, m[6]);
        network(e, m[1]);
        deny(e);
      },
    },
  ],
  '113004': [aaa(true)],
  '113012': [aaa(true)],
  '113005': [aaa(false)],
  '113015': [aaa(false)],
  '605004': [managementLogin(false)],
  '605005': [managementLogin(true)],
  '611101': [vpnClientAuth(true)],
  '611102': [vpnClientAuth(false)],
  '113039': [
    {
      pattern: new RegExp(`^${GROUP_USER_IP} AnyConnect parent session started`),
      handle: (m, e) => vpnSession(m, e, 'vpn-session-started', 'start'),
    },
  ],
  '716001': [
    {
      pattern: new RegExp(`^${GROUP_USER_IP} WebVPN session started`),
      handle: (m, e) => vpnSession(m, e, 'vpn-session-started', 'start'),
    },
  ],
  '716002': [
    {
      pattern: new RegExp(`^${GROUP_USER_IP} WebVPN session terminated`),
      handle: (m, e) => vpnSession(m, e, 'vpn-session-ended', 'end'),
    },
  ],
  '722022': [
    {
      pattern: new RegExp(`^${GROUP_USER_IP} (TCP|UDP) SVC connection established`),
      handle: (m, e) => vpnSession(m, e, 'vpn-connection-established', 'start'),
    },
  ],
  '722023': [
    {
      pattern: new RegExp(`^${GROUP_USER_IP} (TCP|UDP) SVC connection terminated`),
      handle: (m, e) => vpnSession(m, e, 'vpn-connection-terminated', 'end'),
    },
  ],
  '722051': [
    {
      pattern: new RegExp(`^${GROUP_USER_IP} IPv4 Address <([^>]*)>`),
      handle: (m, e) => {
        vpnSession(m, e, 'vpn-address-assigned', 'info');
        e.source = { ...e.source, nat: { ip: m[4]! } };
      },
    },
  ],
  '113019': [
    {
      pattern: /^Group = ([^,]*), Username = ([^,]*), IP = ([^,]*), Session disconnected.*Reason: (.*)$/,
      handle: (m, e) => {
        vpnSession(m, e, 'vpn-session-ended', 'end');
        e.event.reason = m[4];
      },
    },
  ],
  '733100': [
    {
      pattern: /^\[\s*([^\]]+?)\s*\] drop rate-(\d+) exceeded/,
      handle: (m, e) => {
        e.event.kind = 'alert';
        e.event.category = ['intrusion_detection', 'network'];
        e.event.type = ['info'];
        e.event.action = 'threat-detected';
        e.rule = { name: m[1] };
      },
    },
  ],
  '111008': [
    {
      pattern: /^User '([^']*)' executed the '(.*)' command/,
      handle: (m, e) => command(e, m[1]!, m[2]!),
    },
  ],
  '111010': [
    {
      pattern: new RegExp(`^User '([^']*)', running '[^']*' from IP ${IP}, executed '(.*)'`),
      handle: (m, e) => {
        command(e, m[1]!, m[3]!);
        setSourceAddress(e, m[2]!);
      },
    },
  ],
  '502103': [
    {
      pattern: /^User priv level changed: Uname: (\S+) From: (\d+) To: (\d+)/,
      handle: (m, e) => {
        setUserName(e, m[1]!);
        e.event.category = ['iam'];
        e.event.type = ['user', 'change'];
        e.event.action = 'privilege-changed';
      },
    },
  ],
};

function denyFromTo(): Rule {
  return {
    pattern: new RegExp(
      String.raw`^Deny (?:inbound )?(\w+)(?: \(no connection\))? from ${IP}/(\d+) to ${IP}/(\d+).*?(?:on interface (\S+))?$`,
    ),
    handle: (m, e) => {
      source(e, m[6], m[2]!, m[3]);
      destination(e, undefined, m[4]!, m[5]);
      network(e, m[1]);
      deny(e);
    },
  };
}

function built(): Rule {
  return {
    pattern: new RegExp(
      String.raw`^Built (inbound|outbound) (\w+) connection (\d+) for ${ENDPOINT} \(${IP}/(\d+)\)(?:\([^)]*\))* to ${ENDPOINT} \(${IP}/(\d+)\)`,
    ),
    handle: (m, e) => {
      // ASA writes the outside ("foreign") end first: for outbound connections it is the destination.
      const inbound = m[1] === 'inbound';
      const a: [string, string, string] = [m[4]!, m[5]!, m[6]!];
      const b: [string, string, string] = [m[9]!, m[10]!, m[11]!];
      const [src, dst] = inbound ? [a, b] : [b, a];
      source(e, src[0], src[1], src[2]);
      destination(e, dst[0], dst[1], dst[2]);
      network(e, m[2], m[1]);
      e.cisco = { asa: { ...(e.cisco as { asa: object }).asa, connection_id: m[3] } };
      e.event.category = ['network'];
      e.event.type = ['connection', 'start', 'allowed'];
      e.event.action = 'flow-creation';
    },
  };
}

function teardown(): Rule {
  return {
    pattern: new RegExp(
      String.raw`^Teardown (\w+) connection (\d+) for ${ENDPOINT}(?:\([^)]*\))? to ${ENDPOINT}(?:\([^)]*\))? duration (\S+) bytes (\d+)\s*(.*)$`,
    ),
    handle: (m, e) => {
      source(e, m[3], m[4]!, m[5]);
      destination(e, m[6], m[7]!, m[8]);
      network(e, m[1]);
      e.network = { ...(e.network as object), bytes: Number(m[10]) };
      e.cisco = { asa: { ...(e.cisco as { asa: object }).asa, connection_id: m[2], duration: m[9] } };
      if (m[11]) e.event.reason = m[11];
      e.event.category = ['network'];
      e.event.type = ['connection', 'end'];
      e.event.action = 'flow-expiration';
    },
  };
}

function icmp(action: string, type: string): Rule {
  return {
    pattern: new RegExp(
      String.raw`(inbound|outbound)? ?ICMP connection (?:\d+ )?for faddr ${IP}/\d+ gaddr ${IP}/\d+ laddr ${IP}/\d+`,
    ),
    handle: (m, e) => {
      source(e, undefined, m[2]!);
      destination(e, undefined, m[4]!);
      network(e, 'icmp', m[1]);
      e.event.category = ['network'];
      e.event.type = ['connection', type];
      e.event.action = action;
    },
  };
}

function aaa(success: boolean): Rule {
  return {
    pattern: /^AAA user authentication (?:Successful|Rejected)(.*)$/,
    handle: (m, e) => {
      const fields: Record<string, string> = {};
      for (const part of m[1]!.split(' : ')) {
        const eq = part.indexOf(' = ');
        if (eq > 0) fields[part.slice(0, eq).trim()] = part.slice(eq + 3).trim();
      }
      login(e, success, fields.user, fields.reason);
      if (fields['user IP']) setSourceAddress(e, fields['user IP']);
      if (fields.server)
        e.cisco = { asa: { ...(e.cisco as { asa: object }).asa, aaa_server: fields.server } };
    },
  };
}

function managementLogin(success: boolean): Rule {
  return {
    pattern: new RegExp(
      String.raw`^Login (?:denied|permitted) from ${IP}/(\d+) to ([^:\s]+):${IP}/(\S+) for user "([^"]*)"`,
    ),
    handle: (m, e) => {
      source(e, undefined, m[1]!, m[2]);
      destination(e, m[3], m[4]!);
      e.network = { protocol: m[5]! };
      login(e, success, m[6]);
    },
  };
}

function vpnClientAuth(success: boolean): Rule {
  return {
    pattern: new RegExp(
      String.raw`^User authentication (?:succeeded|failed): (?:IP address: )?${IP}.*Uname: (\S+)`,
    ),
    handle: (m, e) => {
      setSourceAddress(e, m[1]!.replace(/,$/, ''));
      login(e, success, m[2]);
    },
  };
}

function command(event: EcsEvent, user: string, line: string): void {
  setUserName(event, user);
  event.process = { command_line: line };
  event.event.category = ['configuration'];
  event.event.type = ['change'];
  event.event.action = 'command-executed';
}
