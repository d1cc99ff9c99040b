/**
 * The store benchmarks' data set: raw syslog lines as the province's devices send them (sshd, sudo,
 * FortiGate, nginx, iptables/UFW, a Vietnamese e-government portal, the odd garbage line), from the
 * address ranges of the sample agencies, run through the real normaliser, so the events have the shape,
 * size and field mix of production events. Deterministic (seeded), so runs compare; no ../shared data.
 *
 * Time order is realistic: events arrive roughly in time order (what ingest writes), each batch spread
 * over its slice of the span, with 5% of events late by up to 10 minutes. `order: 'random'` scatters
 * times over the whole span instead (a backfill: the worst case for the indexes).
 */
import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import { AgencyDirectory } from '../core/agencies.js';
import type { RawRecord, SecurityEvent } from '../core/model.js';
import { ingestCounters } from '../ingest/accounting.js';
import { createNormaliser } from '../ingest/normalise.js';

export interface DatasetOptions {
  /** Epoch ms of the first and the end of the span. */
  from: number;
  to: number;
  seed?: number;
  order?: 'time' | 'random';
  batchSize?: number;
}

const AGENCIES_FILE = fileURLToPath(new URL('../fixtures/agencies/hau-giang.yaml', import.meta.url));

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

const USERS = ['root', 'admin', 'ubuntu', 'oracle', 'nguyenvana', 'tranthib', 'lequangc', 'test', 'guest'];
const PATHS = ['/', '/login', '/api/v1/ho-so?trang=2', '/wp-login.php', '/admin', '/dich-vu-cong', '/app.js'];
const AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/124.0',
  'curl/8.5.0',
  'python-requests/2.31',
];
const PORTAL = [
  'Đăng nhập thất bại cho tài khoản',
  'Nộp hồ sơ trực tuyến thành công, mã hồ sơ',
  'Tra cứu hồ sơ của công dân',
  'Phiên làm việc hết hạn, người dùng',
];

/** Batches of normalised events, `batchSize` each (5,000 by default). */
export function* eventBatches(count: number, options: DatasetOptions): Generator<SecurityEvent[]> {
  const next = random(options.seed ?? 1);
  const pick = <T>(items: readonly T[]) => items[Math.floor(next() * items.length)]!;
  const directory = AgencyDirectory.fromFile(AGENCIES_FILE);
  const agencies = directory.agencies.filter((agency) => agency.cidrs[0]?.includes('.'));
  const normalise = createNormaliser({
    agencies: directory,
    defaultTimezone: 'Asia/Ho_Chi_Minh',
    counters: ingestCounters(new Registry()),
  });
  const batchSize = options.batchSize ?? 5000;
  const span = options.to - options.from;
  const two = (n: number) => String(n).padStart(2, '0');
  let seq = 0;
  for (let start = 0; start < count; start += batchSize) {
    const size = Math.min(batchSize, count - start);
    const records: RawRecord[] = [];
    for (let i = 0; i < size; i++) {
      const position = (start + i) / count;
      let time = options.order === 'random' ? options.from + next() * span : options.from + position * span;
      if (options.order !== 'random' && next() < 0.05) time -= next() * 600_000;
      time = Math.max(options.from, Math.min(options.to - 1, Math.floor(time)));
      const agency = pick(agencies);
      const net = agency.cidrs[0]!.slice(0, agency.cidrs[0]!.lastIndexOf('.'));
      const device = `${net}.${1 + Math.floor(next() * 20)}`;
      const host = `${agency.id}-srv${1 + Math.floor(next() * 4)}`;
      const attacker =
        next() < 0.7 ? `203.0.113.${1 + Math.floor(next() * 254)}` : `198.51.100.${Math.floor(next() * 64)}`;
      const iso = new Date(time + 7 * 3_600_000).toISOString().slice(0, 23) + '+07:00';
      const user = pick(USERS);
      const pid = 1000 + Math.floor(next() * 60000);
      const port = 1024 + Math.floor(next() * 60000);
      const kind = next();
      let text: string;
      if (kind < 0.4) {
        const line =
          next() < 0.8
            ? `Failed password for ${next() < 0.3 ? 'invalid user ' : ''}${user} from ${attacker} port ${port} ssh2`
            : `Accepted publickey for ${user} from ${next() < 0.5 ? device : attacker} port ${port} ssh2`;
        text = `<38>1 ${iso} ${host} sshd ${pid} - - ${line}`;
      } else if (kind < 0.45) {
        text = `<85>1 ${iso} ${host} sudo - - - ${user} : TTY=pts/${Math.floor(next() * 4)} ; PWD=/home/${user} ; USER=root ; COMMAND=/usr/bin/systemctl restart nginx`;
      } else if (kind < 0.7) {
        const deny = next() < 0.6;
        const date = new Date(time + 7 * 3_600_000);
        const day = `${date.getUTCFullYear()}-${two(date.getUTCMonth() + 1)}-${two(date.getUTCDate())}`;
        const clock = `${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())}`;
        text = `<189>date=${day} time=${clock} devname="FG100F-${agency.id}" devid="FG100FTK2000${start % 97}" eventtime=${time}000000 tz="+0700" logid="0000000013" type="traffic" subtype="forward" level="notice" vd="root" srcip=${attacker} srcport=${port} srcintf="wan1" dstip=${device} dstport=${pick([22, 80, 443, 3389, 445, 3306])} dstintf="port2" sessionid=${seq} proto=6 action="${deny ? 'deny' : 'accept'}" policyid=${deny ? 0 : 7} service="HTTPS" sentbyte=${Math.floor(next() * 9000)} rcvdbyte=${Math.floor(next() * 90000)}`;
      } else if (kind < 0.9) {
        const status = pick([200, 200, 200, 302, 404, 403, 500]);
        const date = new Date(time + 7 * 3_600_000);
        const month = date.toUTCString().slice(8, 11);
        const clf = `${two(date.getUTCDate())}/${month}/${date.getUTCFullYear()}:${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())} +0700`;
        text = `<190>1 ${iso} ${agency.id}-portal nginx - - - ${attacker} - - [${clf}] "GET ${pick(PATHS)} HTTP/1.1" ${status} ${Math.floor(next() * 50000)} "-" "${pick(AGENTS)}"`;
      } else if (kind < 0.96) {
        text = `<4>1 ${iso} ${agency.id}-gw kernel - - - [UFW BLOCK] IN=eth0 OUT= SRC=${attacker} DST=${device} LEN=60 TTL=52 PROTO=TCP SPT=${port} DPT=${pick([22, 23, 445, 3389])} SYN`;
      } else if (kind < 0.995) {
        text = `<134>1 ${iso} ${agency.id}-portal dvc-portal ${pid} - - ${pick(PORTAL)} ${user} từ ${device}`;
      } else {
        text = `\u0000garbage ${Math.floor(next() * 1e9).toString(36)} {{{`;
      }
      records.push({
        text,
        receivedAt: time + 200,
        transport: 'udp',
        peer: `${device}:514`,
        listener: 'syslog-udp',
        seq: seq++,
      });
    }
    yield normalise(records);
  }
}
