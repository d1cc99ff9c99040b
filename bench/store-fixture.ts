/**
 * Synthetic but realistic events for the store benchmarks: sshd, firewall and web access events from 31
 * agencies over a time span, deterministic (seeded), so runs compare.
 */
import type { SecurityEvent } from '../core/model.js';

/** Mulberry32: small, fast, seeded. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const AGENCIES = Array.from({ length: 31 }, (_, i) => `agency-${String(i + 1).padStart(2, '0')}`);
const USERS = [
  'root',
  'admin',
  'ubuntu',
  'oracle',
  'nguyenvana',
  'tranthib',
  'lequangc',
  'test',
  'guest',
  'postgres',
];
const PATHS = [
  '/',
  '/login',
  '/api/v1/hoso',
  '/wp-login.php',
  '/admin',
  '/cong-dich-vu-cong',
  '/static/app.js',
];

export function* syntheticEvents(count: number, options: { from: number; spanMs: number; seed?: number }) {
  const next = random(options.seed ?? 1);
  const pick = <T>(items: readonly T[]) => items[Math.floor(next() * items.length)]!;
  for (let i = 0; i < count; i++) {
    const time = new Date(options.from + Math.floor(next() * options.spanMs)).toISOString();
    const agency = pick(AGENCIES);
    const attacker = `203.0.${Math.floor(next() * 8)}.${Math.floor(next() * 254) + 1}`;
    const host = `${agency}-srv${Math.floor(next() * 4) + 1}`;
    const id = `bench-${options.seed ?? 1}-${i}`;
    const kind = next();
    let event: SecurityEvent;
    if (kind < 0.5) {
      const failed = next() < 0.8;
      const user = pick(USERS);
      const pid = Math.floor(next() * 60000);
      const port = 1024 + Math.floor(next() * 60000);
      const message = failed
        ? `Failed password for ${next() < 0.3 ? 'invalid user ' : ''}${user} from ${attacker} port ${port} ssh2`
        : `Accepted publickey for ${user} from ${attacker} port ${port} ssh2`;
      event = {
        '@timestamp': time,
        message,
        event: {
          id,
          ingested: time,
          original: `<38>1 ${time} ${host} sshd ${pid} - - ${message}`,
          kind: 'event',
          category: ['authentication'],
          type: ['start'],
          action: failed ? 'ssh_login_failed' : 'ssh_login',
          outcome: failed ? 'failure' : 'success',
          dataset: 'sshd',
          module: 'system',
        },
        agency: { id: agency },
        host: { hostname: host },
        source: { ip: attacker, port },
        user: { name: user },
        process: { name: 'sshd', pid },
        related: { ip: [attacker], user: [user] },
      };
    } else if (kind < 0.8) {
      const internal = `10.${AGENCIES.indexOf(agency) + 1}.${Math.floor(next() * 255)}.${Math.floor(next() * 254) + 1}`;
      const port = pick([22, 80, 443, 3389, 445, 8080, 3306]);
      const denied = next() < 0.6;
      const message = `${denied ? 'deny' : 'accept'} tcp src=${attacker} dst=${internal} dport=${port}`;
      event = {
        '@timestamp': time,
        message,
        event: {
          id,
          ingested: time,
          original: `<134>${time} fw01 ${message}`,
          kind: 'event',
          category: ['network'],
          action: denied ? 'firewall_deny' : 'firewall_allow',
          outcome: denied ? 'failure' : 'success',
          dataset: 'fortigate.traffic',
          severity: denied ? 4 : 6,
        },
        agency: { id: agency },
        observer: { vendor: 'Fortinet', product: 'FortiGate', name: `${agency}-fw01` },
        source: { ip: attacker, port: 1024 + Math.floor(next() * 60000) },
        destination: { ip: internal, port },
        network: { transport: 'tcp' },
      };
    } else {
      const path = pick(PATHS);
      const status = pick([200, 200, 200, 302, 404, 403, 500]);
      const message = `${attacker} - - "GET ${path} HTTP/1.1" ${status} ${Math.floor(next() * 50000)}`;
      event = {
        '@timestamp': time,
        message,
        event: {
          id,
          ingested: time,
          original: message,
          kind: 'event',
          category: ['web'],
          action: 'http_request',
          outcome: status < 400 ? 'success' : 'failure',
          dataset: 'nginx.access',
        },
        agency: { id: agency },
        host: { hostname: host },
        source: { ip: attacker },
        url: { path, original: path },
        http: { request: { method: 'GET' }, response: { status_code: status } },
      };
    }
    yield event;
  }
}

export function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** The queries an analyst typically runs, over the last day of the data. */
export function analystSearches(to: number) {
  const day = { from: to - 86_400_000, to };
  return {
    'filter + time range + top 50': {
      time: day,
      query: 'event.action:ssh_login_failed and user.name:root',
      limit: 50,
    },
    'agency scope + CIDR + time': {
      agencies: ['agency-07'],
      time: day,
      query: 'source.ip:203.0.4.0/24',
      limit: 50,
    },
    'full text + time': { time: day, query: '"Failed password" and invalid', limit: 50 },
    'wildcard + not + time': {
      time: day,
      query: 'url.path:/wp* and not http.response.status_code:200',
      limit: 50,
    },
  };
}
