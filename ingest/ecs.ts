import { isIP } from 'node:net';
import type { SecurityEvent } from '../core/model.js';

/**
 * The ECS fields the ingest stage writes, typed so parsers cannot misspell them. It is still a
 * SecurityEvent (core/model.ts): everything here is optional and nested as ECS nests it.
 */
export interface EcsEvent extends SecurityEvent {
  log?: {
    level?: string;
    flags?: string[];
    source?: { address?: string };
    syslog?: {
      priority?: number;
      /** ECS keyword: the protocol version as text ("1"), as the stores keep it. */
      version?: string;
      facility?: { code: number; name: string };
      severity?: { code: number; name: string };
      hostname?: string;
      appname?: string;
      procid?: string;
      msgid?: string;
      structured_data?: Record<string, Record<string, string>>;
    };
  };
  input?: { type: string };
  host?: { hostname?: string; name?: string; ip?: string[] };
  process?: { name?: string; pid?: number; executable?: string; command_line?: string; args?: string[] };
  source?: EndpointFields;
  destination?: EndpointFields;
  user?: UserFields;
  related?: { ip?: string[]; user?: string[]; hosts?: string[] };
  error?: { message: string; type?: string };
  observer?: {
    vendor?: string;
    product?: string;
    hostname?: string;
    type?: string;
    name?: string;
    serial_number?: string;
    ingress?: { interface?: { name: string }; zone?: string };
    egress?: { interface?: { name: string }; zone?: string };
  };
}

export interface EndpointFields {
  ip?: string;
  port?: number;
  domain?: string;
  address?: string;
  mac?: string;
  bytes?: number;
  packets?: number;
  nat?: { ip?: string; port?: number };
  user?: UserFields;
}

export interface UserFields {
  name?: string;
  id?: string;
  domain?: string;
  effective?: { name?: string; id?: string };
  target?: { name?: string; id?: string };
}

/** Adds `value` to `related.<kind>` once. */
export function addRelated(event: EcsEvent, kind: 'ip' | 'user' | 'hosts', value: string): void {
  let related = event.related;
  if (!related) {
    related = {};
    event.related = related;
  }
  // Named loads and stores, one branch per kind: `related[kind]` is a keyed access that V8 serves from
  // its generic (megamorphic) path on every call.
  if (kind === 'ip') {
    const list = related.ip;
    if (!list) related.ip = [value];
    else if (!list.includes(value)) list.push(value);
  } else if (kind === 'user') {
    const list = related.user;
    if (!list) related.user = [value];
    else if (!list.includes(value)) list.push(value);
  } else {
    const list = related.hosts;
    if (!list) related.hosts = [value];
    else if (!list.includes(value)) list.push(value);
  }
}

/** True for an IPv4 or IPv6 address; dotted quads are checked inline (most addresses, no regex). */
export function isIpAddress(address: string): boolean {
  const length = address.length;
  if (length >= 7 && length <= 15) {
    let dots = 0;
    let digits = 0;
    let value = 0;
    let i = 0;
    for (; i < length; i++) {
      const c = address.charCodeAt(i);
      if (c === 46) {
        if (digits === 0 || ++dots > 3) break;
        digits = 0;
        value = 0;
      } else if (c >= 48 && c <= 57) {
        value = value * 10 + (c - 48);
        if (++digits > 3 || value > 255 || (digits === 2 && value < 10)) break;
      } else {
        break;
      }
    }
    if (i === length && dots === 3 && digits > 0) return true;
  }
  return address.includes(':') && isIP(address) === 6;
}

/** Sets `source.ip` (or `source.domain` for a name), `source.port` and `related.ip`. */
export function setSourceAddress(event: EcsEvent, address: string, port?: number): void {
  const source = event.source ?? {};
  event.source = source;
  if (isIpAddress(address)) {
    source.ip = address;
    addRelated(event, 'ip', address);
  } else {
    source.domain = address;
  }
  if (port !== undefined && Number.isInteger(port) && port >= 0 && port <= 65535) source.port = port;
}

/** Sets `user.name` and `related.user`. */
export function setUserName(event: EcsEvent, name: string): void {
  const user = event.user ?? {};
  event.user = user;
  user.name = name;
  addRelated(event, 'user', name);
}

/** Adds a tag once. */
export function addTag(event: EcsEvent, tag: string): void {
  if (!event.tags) event.tags = [tag];
  else if (!event.tags.includes(tag)) event.tags.push(tag);
}
