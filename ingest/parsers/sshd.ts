import { addTag, type EcsEvent, setSourceAddress, setUserName } from '../ecs.js';
import type { SyslogEnvelope } from '../envelope/envelope.js';
import { parsePam } from './pam.js';
import { PARSED, type ParseOutcome, type SourceParser, UNRECOGNISED } from './source-parser.js';

/**
 * OpenSSH server messages (auth.log / secure) to ECS, following the field choices of Elastic's `system.auth`
 * module (`event.action: ssh_login`, `system.auth.ssh.*`) so Kibana-style queries and Sigma pipelines carry
 * over. Lines are matched by their fixed prefix with `startsWith`/`indexOf`: no regex on the hot path.
 */
export const sshdParser: SourceParser = {
  id: 'sshd',
  programs: ['sshd', 'sshd-session', 'sshd-auth'],
  parse: parseSshd,
};

interface SshFields {
  event?: string;
  method?: string;
  signature?: string;
}

function parseSshd(message: string, event: EcsEvent, _envelope?: SyslogEnvelope): ParseOutcome {
  event.event.module = 'system';
  event.event.dataset = 'system.auth';
  return classify(message, event) || parsePam(message, event) ? PARSED : UNRECOGNISED;
}

function classify(message: string, event: EcsEvent): boolean {
  switch (message.charCodeAt(0)) {
    case 70 /* F */:
      if (message.startsWith('Failed ')) return login(message, 7, event, 'failure');
      return false;
    case 65 /* A */:
      if (message.startsWith('Accepted ')) return login(message, 9, event, 'success');
      return false;
    case 73 /* I */:
      if (message.startsWith('Invalid user ')) return invalidUser(message, event);
      return false;
    case 67 /* C */:
      if (message.startsWith('Connection closed by '))
        return closed(message, 21, event, 'ssh_connection_closed');
      if (message.startsWith('Connection reset by '))
        return closed(message, 20, event, 'ssh_connection_reset');
      if (message.startsWith('Connection from ')) return connection(message, event);
      return false;
    case 68 /* D */:
      if (message.startsWith('Disconnected from ')) return closed(message, 18, event, 'ssh_disconnect');
      if (message.startsWith('Did not receive identification string from '))
        return closed(message, 43, event, 'ssh_no_identification');
      if (message.startsWith('Disconnecting: Too many authentication failures'))
        return tooManyFailures(message, event);
      if (
        message.startsWith('Disconnecting authenticating user ') ||
        message.startsWith('Disconnecting invalid user ')
      )
        return disconnectingUser(message, event);
      return false;
    case 82 /* R */:
      if (message.startsWith('Received disconnect from '))
        return closed(message, 25, event, 'ssh_disconnect');
      return false;
    case 114 /* r */:
      if (message.startsWith('reverse mapping checking getaddrinfo for '))
        return reverseMapping(message, event);
      return false;
    case 101 /* e */:
      if (message.startsWith('error: maximum authentication attempts exceeded for '))
        return maxAttempts(message, event);
      if (message.startsWith('error: Received disconnect from '))
        return closed(message, 32, event, 'ssh_disconnect');
      return false;
    case 109 /* m */:
      return repeated(message, event);
    default:
      return false;
  }
}

function setSsh(event: EcsEvent, fields: SshFields): void {
  event.system = { auth: { ssh: fields } };
}

function authentication(event: EcsEvent, action: string, outcome: 'success' | 'failure'): void {
  event.event.kind = 'event';
  event.event.category = outcome === 'success' ? ['authentication', 'session'] : ['authentication'];
  event.event.type = ['info'];
  event.event.action = action;
  event.event.outcome = outcome;
}

/** `Failed|Accepted <method> for [invalid user ]<user> from <ip> port <port> <proto>[: <key info>]` */
function login(
  message: string,
  methodStart: number,
  event: EcsEvent,
  outcome: 'success' | 'failure',
): boolean {
  const methodEnd = message.indexOf(' for ', methodStart);
  if (methodEnd < 0) return false;
  const fromAt = message.lastIndexOf(' from ');
  if (fromAt < methodEnd) return false;
  let userStart = methodEnd + 5;
  let invalidUser = false;
  if (message.startsWith('invalid user ', userStart)) {
    invalidUser = true;
    userStart += 13;
  }
  if (!readAddressPort(message, fromAt + 6, event)) return false;
  authentication(event, 'ssh_login', outcome);
  const method = message.slice(methodStart, methodEnd);
  const fields: SshFields = { event: outcome === 'success' ? 'Accepted' : 'Failed', method };
  const keyInfo = message.indexOf(': ', fromAt);
  if (keyInfo > 0) fields.signature = message.slice(keyInfo + 2);
  setSsh(event, fields);
  if (userStart <= fromAt) setUserName(event, message.slice(userStart, fromAt));
  if (invalidUser) event.event.reason = 'invalid user';
  return true;
}

/** `Invalid user <user> from <ip>[ port <port>]` */
function invalidUser(message: string, event: EcsEvent): boolean {
  const fromAt = message.lastIndexOf(' from ');
  if (fromAt < 12 || !readAddressPort(message, fromAt + 6, event)) return false;
  authentication(event, 'ssh_invalid_user', 'failure');
  event.event.reason = 'invalid user';
  setSsh(event, { event: 'Invalid' });
  setUserName(event, message.slice(13, fromAt));
  return true;
}

/**
 * End of a connection: `... by|from [authenticating user|invalid user|user <u> ]<ip>[ port <p>][: <code>: <text>][ [preauth]]`.
 */
function closed(message: string, start: number, event: EcsEvent, action: string): boolean {
  let at = start;
  for (const prefix of ['authenticating user ', 'invalid user ', 'user ']) {
    if (message.startsWith(prefix, at)) {
      at += prefix.length;
      const userEnd = message.indexOf(' ', at);
      if (userEnd < 0) return false;
      setUserName(event, message.slice(at, userEnd));
      at = userEnd + 1;
      break;
    }
  }
  if (!readAddressPort(message, at, event)) return false;
  event.event.kind = 'event';
  event.event.category = ['network'];
  event.event.type = ['connection', 'end'];
  event.event.action = action;
  if (message.endsWith('[preauth]')) addTag(event, 'preauth');
  return true;
}

/** `Connection from <ip> port <p> on <ip> port <p>[ rdomain ...]` (LogLevel VERBOSE). */
function connection(message: string, event: EcsEvent): boolean {
  if (!readAddressPort(message, 16, event)) return false;
  event.event.kind = 'event';
  event.event.category = ['network'];
  event.event.type = ['connection', 'start'];
  event.event.action = 'ssh_connection';
  return true;
}

/** `reverse mapping checking getaddrinfo for <name> [<ip>] failed - POSSIBLE BREAK-IN ATTEMPT!` */
function reverseMapping(message: string, event: EcsEvent): boolean {
  const nameStart = 41;
  const open = message.indexOf(' [', nameStart);
  const close = message.indexOf(']', open);
  if (open < 0 || close < 0) return false;
  setSourceAddress(event, message.slice(open + 2, close));
  if (event.source) event.source.domain = message.slice(nameStart, open);
  event.event.kind = 'event';
  event.event.category = ['network'];
  event.event.type = ['info'];
  event.event.action = 'ssh_reverse_mapping_failed';
  return true;
}

/** `error: maximum authentication attempts exceeded for [invalid user ]<u> from <ip> port <p> ssh2 [preauth]` */
function maxAttempts(message: string, event: EcsEvent): boolean {
  let userStart = 52;
  const fromAt = message.lastIndexOf(' from ');
  if (fromAt < userStart) return false;
  if (message.startsWith('invalid user ', userStart)) {
    userStart += 13;
    event.event.reason = 'invalid user';
  }
  if (!readAddressPort(message, fromAt + 6, event)) return false;
  authentication(event, 'ssh_max_auth_attempts_exceeded', 'failure');
  setUserName(event, message.slice(userStart, fromAt));
  return true;
}

/** `Disconnecting: Too many authentication failures[ for <user>][ [preauth]]` */
function tooManyFailures(message: string, event: EcsEvent): boolean {
  const forAt = message.indexOf(' for ', 47);
  if (forAt > 0) {
    const end = message.indexOf(' [preauth]', forAt);
    setUserName(event, message.slice(forAt + 5, end < 0 ? message.length : end));
  }
  authentication(event, 'ssh_max_auth_attempts_exceeded', 'failure');
  return true;
}

/** `Disconnecting authenticating|invalid user <u> <ip> port <p>: Too many authentication failures [preauth]` */
function disconnectingUser(message: string, event: EcsEvent): boolean {
  const userStart = message.indexOf(' user ') + 6;
  const userEnd = message.indexOf(' ', userStart);
  if (userEnd < 0 || !readAddressPort(message, userEnd + 1, event)) return false;
  setUserName(event, message.slice(userStart, userEnd));
  if (message.includes('Too many authentication failures')) {
    authentication(event, 'ssh_max_auth_attempts_exceeded', 'failure');
  } else {
    event.event.kind = 'event';
    event.event.category = ['network'];
    event.event.type = ['connection', 'end'];
    event.event.action = 'ssh_disconnect';
  }
  return true;
}

/** rsyslog/syslogd compression: `message repeated <n> times: [ <message>]` → the inner message. */
function repeated(message: string, event: EcsEvent): boolean {
  if (!message.startsWith('message repeated ')) return false;
  const open = message.indexOf(' times: [ ', 17);
  const close = message.lastIndexOf(']');
  if (open < 0 || close < open || message.slice(close + 1).trim() !== '') return false;
  const count = Number(message.slice(17, open));
  if (!Number.isInteger(count) || count < 1) return false;
  const inner = message.slice(open + 10, close);
  if (inner.startsWith('message repeated ')) return false;
  addTag(event, 'repeated');
  event.event.repeat_count = count;
  return classify(inner, event);
}

/**
 * Reads `<ip>[ port <port>]` at `start` (the address ends at a space, `:` followed by a space or digit in
 * IPv4, or the end) and sets `source.*`. False when there is no address.
 */
function readAddressPort(message: string, start: number, event: EcsEvent): boolean {
  let end = start;
  const length = message.length;
  while (end < length) {
    const c = message.charCodeAt(end);
    if (c === 32) break;
    // `Received disconnect from 1.2.3.4: 11: Bye`: a colon followed by a space, or any colon after an IPv4
    // address, ends it; IPv6 addresses are full of colons but none is followed by a space.
    if (c === 58 && (message.charCodeAt(end + 1) === 32 || isIpv4Prefix(message, start, end))) break;
    end++;
  }
  if (end === start) return false;
  const address = message.slice(start, end);
  let port: number | undefined;
  if (message.startsWith(' port ', end)) {
    let p = end + 6;
    let value = 0;
    while (p < length) {
      const c = message.charCodeAt(p);
      if (c < 48 || c > 57) break;
      value = value * 10 + (c - 48);
      p++;
    }
    if (p > end + 6) port = value;
  }
  setSourceAddress(event, address, port);
  return event.source?.ip !== undefined || event.source?.domain !== undefined;
}

function isIpv4Prefix(message: string, start: number, end: number): boolean {
  let dots = 0;
  for (let i = start; i < end; i++) {
    const c = message.charCodeAt(i);
    if (c === 46) dots++;
    else if (c < 48 || c > 57) return false;
  }
  return dots === 3;
}
