import { isIP } from 'node:net';
import { type EcsEvent, setSourceAddress, setUserName } from '../ecs.js';
import { isoOf } from '../iso.js';
import { parseKeyValues, toInt } from './key-value.js';
import { invalid, PARSED, type ParseOutcome, type SourceParser } from './source-parser.js';

/**
 * Linux audit records (`/var/log/audit/audit.log`, or forwarded by audisp-syslog):
 * `[node=h ]type=T msg=audit(1700000000.123:456): key=value ... [msg='nested ...'][\x1dENRICHED=...]`.
 * Mapped like Elastic's auditd module: every field under `auditd.log`, the event time from `msg=audit(...)`,
 * and the common fields (pid, uid, auid, exe, comm, acct, addr, res/success) to ECS. Unquoted values of the
 * fields auditd may hex-encode are decoded.
 */
export const auditdParser: SourceParser = {
  id: 'auditd',
  programs: ['audispd', 'audisp-syslog', 'audit', 'auditd'],
  sniff: (message) =>
    message.startsWith('type=') || (message.startsWith('node=') && message.includes(' type=')),
  parse: parseAuditd,
};

/** Fields auditd writes hex-encoded when they hold spaces, quotes or control characters. */
const ENCODABLE = new Set([
  'comm',
  'exe',
  'cwd',
  'name',
  'acct',
  'cmd',
  'proctitle',
  'path',
  'data',
  'key',
  'old',
  'new',
]);
const UNSET_ID = '4294967295';

/** x86_64 syscall numbers most often audited. */
const SYSCALLS: Record<string, string> = {
  '0': 'read',
  '1': 'write',
  '2': 'open',
  '4': 'stat',
  '41': 'socket',
  '42': 'connect',
  '43': 'accept',
  '49': 'bind',
  '50': 'listen',
  '56': 'clone',
  '57': 'fork',
  '59': 'execve',
  '62': 'kill',
  '82': 'rename',
  '84': 'rmdir',
  '87': 'unlink',
  '90': 'chmod',
  '92': 'chown',
  '101': 'ptrace',
  '105': 'setuid',
  '106': 'setgid',
  '165': 'mount',
  '166': 'umount2',
  '175': 'init_module',
  '176': 'delete_module',
  '257': 'openat',
  '263': 'unlinkat',
  '268': 'fchmodat',
  '288': 'accept4',
  '313': 'finit_module',
  '322': 'execveat',
};

/** record type → [category, type, action] */
const TYPES: Record<string, [string[] | undefined, string[] | undefined, string]> = {
  USER_LOGIN: [['authentication'], ['start'], 'logged-in'],
  USER_LOGOUT: [['authentication'], ['end'], 'logged-out'],
  USER_AUTH: [['authentication'], ['info'], 'authenticated'],
  USER_ACCT: [['authentication'], ['info'], 'was-authorized'],
  USER_ERR: [['authentication'], ['info'], 'error'],
  CRED_ACQ: [['authentication'], ['info'], 'acquired-credentials'],
  CRED_REFR: [['authentication'], ['info'], 'refreshed-credentials'],
  CRED_DISP: [['authentication'], ['info'], 'disposed-credentials'],
  USER_START: [['session'], ['start'], 'started-session'],
  USER_END: [['session'], ['end'], 'ended-session'],
  LOGIN: [['authentication'], ['info'], 'changed-login-id-to'],
  ADD_USER: [['iam'], ['user', 'creation'], 'added-user-account'],
  DEL_USER: [['iam'], ['user', 'deletion'], 'deleted-user-account'],
  USER_MGMT: [['iam'], ['user', 'change'], 'modified-user-account'],
  USER_CHAUTHTOK: [['iam'], ['user', 'change'], 'changed-password'],
  ACCT_LOCK: [['iam'], ['user', 'change'], 'locked-account'],
  ACCT_UNLOCK: [['iam'], ['user', 'change'], 'unlocked-account'],
  ADD_GROUP: [['iam'], ['group', 'creation'], 'added-group-account'],
  DEL_GROUP: [['iam'], ['group', 'deletion'], 'deleted-group-account'],
  GRP_MGMT: [['iam'], ['group', 'change'], 'modified-group-account'],
  USER_CMD: [['process'], ['start'], 'ran-command'],
  SERVICE_START: [['process'], ['start'], 'started-service'],
  SERVICE_STOP: [['process'], ['end'], 'stopped-service'],
  CONFIG_CHANGE: [['configuration'], ['change'], 'changed-audit-configuration'],
  ANOM_ABEND: [['process'], ['end'], 'crashed'],
  ANOM_PROMISCUOUS: [['network'], ['change'], 'changed-promiscuous-mode-on-device'],
};

function parseAuditd(message: string, event: EcsEvent): ParseOutcome {
  event.event.module = 'auditd';
  event.event.dataset = 'auditd.log';
  let start = 0;
  let node: string | undefined;
  if (message.startsWith('node=')) {
    const space = message.indexOf(' ');
    node = message.slice(5, space);
    start = space + 1;
  }
  if (!message.startsWith('type=', start)) return invalid('auditd record without type=');
  const typeEnd = message.indexOf(' ', start);
  const head = message.indexOf(' msg=audit(', start);
  const headEnd = message.indexOf('):', head);
  if (typeEnd < 0 || head !== typeEnd || headEnd < 0)
    return invalid('auditd record without msg=audit(time:serial)');
  const recordType = message.slice(start + 5, typeEnd);
  const stamp = message.slice(head + 11, headEnd);
  const colon = stamp.indexOf(':');
  const seconds = Number(stamp.slice(0, colon));
  if (colon < 0 || !Number.isFinite(seconds)) return invalid(`auditd time ${stamp} is not seconds:serial`);
  event['@timestamp'] = isoOf(Math.round(seconds * 1000));

  // Enriched logs (log_format=ENRICHED) append name translations after a GS character.
  let body = message.slice(headEnd + 2);
  let enriched: Record<string, string> | undefined;
  const gs = body.indexOf('\u001d');
  if (gs >= 0) {
    enriched = parseKeyValues(body, gs + 1);
    body = body.slice(0, gs);
  }
  const quoted = new Set<string>();
  const fields = parseKeyValues(body, 0, { quoted });
  if (fields.msg !== undefined && quoted.has('msg')) {
    const inner = fields.msg;
    delete fields.msg;
    quoted.clear();
    Object.assign(fields, parseKeyValues(inner, 0, { quoted }));
  }
  for (const [key, value] of Object.entries(fields)) {
    if ((ENCODABLE.has(key) || (recordType === 'EXECVE' && /^a\d+$/.test(key))) && !quoted.has(key)) {
      fields[key] = decodeHex(value, key === 'proctitle');
    }
  }

  const log: Record<string, unknown> = {
    record_type: recordType,
    sequence: toInt(stamp.slice(colon + 1)),
    ...fields,
  };
  if (node) log.node = node;
  if (enriched) log.enriched = enriched;
  event.auditd = { log };
  if (node) event.host = { ...event.host, name: node };
  mapCommon(fields, enriched, event);
  classify(recordType, fields, event);
  return PARSED;
}

function mapCommon(
  fields: Record<string, string>,
  enriched: Record<string, string> | undefined,
  event: EcsEvent,
) {
  const process: NonNullable<EcsEvent['process']> & { parent?: { pid: number } } = { ...event.process };
  const pid = toInt(fields.pid);
  if (pid !== undefined) process.pid = pid;
  const ppid = toInt(fields.ppid);
  if (ppid !== undefined) process.parent = { pid: ppid };
  if (fields.exe && fields.exe !== '?') process.executable = fields.exe;
  if (fields.comm) process.name = fields.comm;
  if (fields.proctitle) process.command_line = fields.proctitle;
  if (Object.keys(process).length > 0) event.process = process;

  const user: Record<string, unknown> = {};
  if (fields.uid !== undefined) user.id = fields.uid;
  if (fields.euid !== undefined && fields.euid !== fields.uid) user.effective = { id: fields.euid };
  if (fields.auid !== undefined && fields.auid !== UNSET_ID) {
    user.audit = {
      id: fields.auid,
      ...(enriched?.AUID && enriched.AUID !== 'unset' ? { name: enriched.AUID } : {}),
    };
  }
  if (Object.keys(user).length > 0) event.user = user as EcsEvent['user'];
  const account =
    fields.acct ?? (fields.id !== undefined && !/^\d+$/.test(fields.id) ? fields.id : undefined);
  if (account && account !== '?' && account !== '(unknown)') setUserName(event, account);
  else if (enriched?.UID) setUserName(event, enriched.UID);

  if (fields.addr && fields.addr !== '?' && isIP(fields.addr) !== 0) setSourceAddress(event, fields.addr);
  if (fields.hostname && fields.hostname !== '?' && isIP(fields.hostname) === 0) {
    event.source = { ...event.source, domain: fields.hostname };
  }
  const result = fields.res ?? fields.success;
  if (result === 'success' || result === 'yes') event.event.outcome = 'success';
  else if (result === 'failed' || result === 'no') event.event.outcome = 'failure';
  if (fields.unit) event.service = { name: fields.unit };
}

function classify(recordType: string, fields: Record<string, string>, event: EcsEvent): void {
  event.event.kind = 'event';
  const known = TYPES[recordType];
  if (known) {
    const [category, type, action] = known;
    if (category) event.event.category = category;
    if (type) event.event.type = type;
    event.event.action = action;
    if (recordType === 'USER_CMD' && fields.cmd)
      event.process = { ...event.process, command_line: fields.cmd };
    return;
  }
  if (recordType === 'SYSCALL') {
    const name = SYSCALLS[fields.syscall ?? ''] ?? fields.syscall;
    if (name) (event.auditd as { log: Record<string, unknown> }).log.syscall_name = name;
    if (name === 'execve' || name === 'execveat') {
      event.event.category = ['process'];
      event.event.type = ['start'];
      event.event.action = 'executed';
    } else if (name === 'connect') {
      event.event.category = ['network'];
      event.event.type = ['connection', 'start'];
      event.event.action = 'connected-to';
    } else {
      event.event.action = name ?? 'syscall';
    }
    return;
  }
  if (recordType === 'EXECVE') {
    const args: string[] = [];
    for (let i = 0; fields[`a${i}`] !== undefined; i++) args.push(fields[`a${i}`]!);
    if (args.length > 0) event.process = { ...event.process, args, command_line: args.join(' ') };
  }
  event.event.action = recordType.toLowerCase();
}

/** auditd's hex encoding of untrusted strings; PROCTITLE separates arguments with NUL. */
function decodeHex(value: string, nulToSpace: boolean): string {
  if (value.length < 2 || value.length % 2 !== 0 || !/^[0-9A-F]+$/.test(value)) return value;
  const decoded = Buffer.from(value, 'hex').toString('utf8');
  return nulToSpace ? decoded.replace(/\u0000+$/, '').replace(/\u0000/g, ' ') : decoded;
}
