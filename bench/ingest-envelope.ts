/**
 * Envelope parsing speed: parseSyslog (ingest/envelope) on RFC 3164 and RFC 5424 lines, against
 * nsyslog-parser on the very same lines in the same run. One core (one Node thread).
 *
 *   npx tsx bench/ingest-envelope.ts
 *
 * Figures go to docs/benchmarks.md (ingest section) with the machine.
 */
import { createRequire } from 'node:module';
import { parseSyslog } from '../ingest/envelope/parse-syslog.js';
import { compare, report } from './ingest-measure.js';

const nsyslog = createRequire(import.meta.url)('nsyslog-parser') as (line: string) => unknown;

const HOSTS = ['bastion', 'web01', 'db-ketoan', 'fw-skhcn', 'portal'];
const PROGRAMS = ['sshd[811]', 'sudo', 'CRON[2201]', 'systemd[1]', 'kernel', 'nginx'];
const MESSAGES = [
  'Failed password for invalid user admin from 203.0.113.5 port 51240 ssh2',
  'Accepted publickey for deploy from 10.93.2.44 port 50022 ssh2: ED25519 SHA256:Xf3vQ1Jb9aY0pWm5b8c7',
  ' nguyenvana : TTY=pts/0 ; PWD=/home/nguyenvana ; USER=root ; COMMAND=/usr/bin/systemctl restart nginx',
  'pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)',
  '[UFW BLOCK] IN=eth0 OUT= MAC=52:54:00:12:34:56 SRC=203.0.113.5 DST=10.93.2.10 LEN=60 PROTO=TCP SPT=51234 DPT=22',
  'Started Session 42 of User nguyenvana.',
];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const N = 20_000;
const pad = (n: number) => String(n).padStart(2, '0');

const rfc3164: string[] = [];
const rfc5424: string[] = [];
for (let i = 0; i < N; i++) {
  const month = MONTHS[i % 12]!;
  const day = (i % 28) + 1;
  const time = `${pad(i % 24)}:${pad(i % 60)}:${pad((i * 7) % 60)}`;
  const host = HOSTS[i % HOSTS.length]!;
  const program = PROGRAMS[i % PROGRAMS.length]!;
  const message = MESSAGES[i % MESSAGES.length]!;
  rfc3164.push(
    `<${(i % 191) + 1}>${month} ${day < 10 ? ` ${day}` : day} ${time} ${host} ${program}: ${message}`,
  );
  const sd =
    i % 3 === 0 ? '-' : `[origin@32473 ip="10.93.2.${i % 250}" software="rsyslogd"][meta sequenceId="${i}"]`;
  const app = program.replace(/\[.*/, '');
  rfc5424.push(
    `<${(i % 191) + 1}>1 2024-06-${pad(day)}T${time}.${String(i % 1000).padStart(3, '0')}+07:00 ${host} ${app} ${i} ID${i % 50} ${sd} ${message}`,
  );
}

const context = { receivedAt: Date.parse('2024-06-30T00:00:00Z'), timezone: 'Asia/Ho_Chi_Minh' };
let sink = 0;
const results = compare([
  {
    name: 'siem-lite parseSyslog, RFC 3164',
    items: rfc3164,
    run: (line: string) => {
      sink += parseSyslog(line, context).message.length;
    },
  },
  {
    name: 'nsyslog-parser,       RFC 3164',
    items: rfc3164,
    run: (line: string) => {
      sink += (nsyslog(line) as { message: string }).message.length;
    },
  },
  {
    name: 'siem-lite parseSyslog, RFC 5424',
    items: rfc5424,
    run: (line: string) => {
      sink += parseSyslog(line, context).message.length;
    },
  },
  {
    name: 'nsyslog-parser,       RFC 5424',
    items: rfc5424,
    run: (line: string) => {
      sink += (nsyslog(line) as { message: string }).message.length;
    },
  },
]);
report(results);
for (const format of ['3164', '5424']) {
  const ours = results.find((r) => r.name.startsWith('siem-lite') && r.name.endsWith(format))!;
  const theirs = results.find((r) => r.name.startsWith('nsyslog') && r.name.endsWith(format))!;
  console.log(`RFC ${format}: ${(ours.perSecond / theirs.perSecond).toFixed(1)}× nsyslog-parser`);
}
if (sink === 0) console.log('(no output)');
