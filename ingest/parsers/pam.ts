import { addRelated, type EcsEvent, setSourceAddress, setUserName } from '../ecs.js';
import { parseKeyValues, toInt } from './key-value.js';
import { PARSED, type SourceParser, UNRECOGNISED } from './source-parser.js';

/**
 * Linux-PAM messages, whatever program logs them (sshd, sudo, su, login, cron, passwd, ...):
 * `pam_unix(sshd:auth): authentication failure; ... rhost=... user=...`, `session opened|closed for user`,
 * `password changed for`, `check pass; user unknown`, `PAM n more authentication failures`, faillock.
 * Old syslogs put the module in the program name (`sshd(pam_unix)[pid]: authentication failure; ...`):
 * the same bodies are read without the `pam_x(service:type): ` prefix.
 */
export const pamParser: SourceParser = {
  id: 'pam',
  programs: [
    'login',
    'cron',
    'crond',
    'systemd-logind',
    'gdm-password',
    'lightdm',
    'polkit-agent-helper-1',
    'vsftpd',
  ],
  sniff: (message) => message.startsWith('pam_'),
  parse(message, event) {
    event.event.module = 'system';
    event.event.dataset = 'system.auth';
    return parsePam(message, event) ? PARSED : UNRECOGNISED;
  },
};

/** Reads a PAM message into `event`; false when it is not one. Used by the sshd, sudo and su parsers too. */
export function parsePam(message: string, event: EcsEvent): boolean {
  let body = message;
  if (message.startsWith('pam_')) {
    const open = message.indexOf('(');
    const close = message.indexOf('): ', open);
    if (open < 0 || close < 0) return false;
    const colon = message.indexOf(':', open);
    const pam: Record<string, string> = { module: message.slice(0, open) };
    if (colon > open && colon < close) {
      pam.service = message.slice(open + 1, colon);
      pam.type = message.slice(colon + 1, close);
    } else {
      pam.service = message.slice(open + 1, close);
    }
    event.system = { auth: { pam } };
    body = message.slice(close + 3);
  } else if (message.startsWith('PAM ')) {
    return morePamFailures(message, event);
  }
  if (body.startsWith('authentication failure; ')) {
    authenticationFailure(body, 23, event, 'pam_authentication_failure');
    return true;
  }
  if (body.startsWith('session opened for user ')) return session(body, 24, event, 'session_opened', 'start');
  if (body.startsWith('session closed for user ')) return session(body, 24, event, 'session_closed', 'end');
  if (body.startsWith('check pass; user unknown')) {
    auth(event, 'pam_user_unknown', 'failure');
    event.event.reason = 'user unknown';
    return true;
  }
  if (body.startsWith('password changed for ')) {
    setUserName(event, body.slice(21).trim());
    iam(event, 'password_changed', ['user', 'change']);
    return true;
  }
  if (body.startsWith('Consecutive login failures for user ')) {
    const end = body.indexOf(' account temporarily locked');
    if (end < 0) return false;
    setUserName(event, body.slice(36, end));
    auth(event, 'account_locked', 'failure');
    event.event.reason = 'account temporarily locked';
    return true;
  }
  return false;
}

function auth(event: EcsEvent, action: string, outcome: 'success' | 'failure'): void {
  event.event.kind = 'event';
  event.event.category = ['authentication'];
  event.event.type = ['info'];
  event.event.action = action;
  event.event.outcome = outcome;
}

function iam(event: EcsEvent, action: string, type: string[]): void {
  event.event.kind = 'event';
  event.event.category = ['iam'];
  event.event.type = type;
  event.event.action = action;
  event.event.outcome = 'success';
}

/** `authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=1.2.3.4  user=root` */
function authenticationFailure(body: string, start: number, event: EcsEvent, action: string): void {
  const fields = parseKeyValues(body, start);
  auth(event, action, 'failure');
  if (fields.user) setUserName(event, fields.user);
  if (fields.rhost) setSourceAddress(event, fields.rhost);
  const uid = toInt(fields.euid);
  if (uid !== undefined) {
    const user = event.user ?? {};
    event.user = user;
    user.effective = { id: String(uid) };
  }
  if (fields.ruser) addRelated(event, 'user', fields.ruser);
  if (fields.logname) addRelated(event, 'user', fields.logname);
}

/** `PAM 2 more authentication failures; logname= ... rhost=... user=root` */
function morePamFailures(message: string, event: EcsEvent): boolean {
  const semi = message.indexOf('; ');
  if (!message.includes(' more authentication failure') || semi < 0) return false;
  authenticationFailure(message, semi + 2, event, 'pam_authentication_failure');
  const count = toInt(message.slice(4, message.indexOf(' ', 4)));
  if (count !== undefined) event.event.repeat_count = count;
  return true;
}

/** `session opened for user bob(uid=1000) by alice(uid=1000)`, `... by (uid=0)`, `session closed for user bob` */
function session(
  body: string,
  start: number,
  event: EcsEvent,
  action: string,
  type: 'start' | 'end',
): boolean {
  let end = body.indexOf(' by ', start);
  if (end < 0) end = body.length;
  let name = body.slice(start, end).trim();
  const paren = name.indexOf('(uid=');
  let uid: string | undefined;
  if (paren > 0) {
    uid = name.slice(paren + 5, name.indexOf(')', paren));
    name = name.slice(0, paren);
  }
  if (name === '') return false;
  setUserName(event, name);
  if (uid !== undefined && event.user) event.user.id = uid;
  if (end < body.length) {
    const by = body.slice(end + 4);
    const byName = by.slice(0, by.indexOf('(') < 0 ? by.length : by.indexOf('('));
    if (byName) addRelated(event, 'user', byName);
  }
  event.event.kind = 'event';
  event.event.category = ['session'];
  event.event.type = [type];
  event.event.action = action;
  event.event.outcome = 'success';
  return true;
}
