/**
 * Full parse + normalise (envelope, agency, source parser, ECS event) for sshd, FortiGate, nginx and
 * netfilter (iptables/UFW) lines, one core.
 *
 *   npx tsx bench/ingest-normalise.ts [--only sshd|fortigate|nginx|iptables] [--against DIR] [--rounds 7]
 *
 * `--against DIR` runs the normaliser of another tree (DIR/ingest/normalise.ts, e.g. an earlier commit
 * unpacked with `git archive <rev> ingest core | tar -x -C DIR` and `node_modules` linked into it) in the
 * same process, interleaved with this one. The outputs of both are compared line by line first (event ids
 * aside) and any difference is printed. The timing is a check only: with two copies of the *same* tree,
 * the one loaded second ran 5–43% faster. For figures, run each tree's bench in separate processes taking
 * turns (before, after, before, ...) with `--only` and compare the best rounds.
 */
import { resolve } from 'node:path';
import { isDeepStrictEqual, parseArgs } from 'node:util';
import { AgencyDirectory } from '../core/agencies.js';
import type { RawRecord, SecurityEvent } from '../core/model.js';
import { createNormaliser } from '../ingest/normalise.js';
import { compare, report } from './ingest-measure.js';

const { values: options } = parseArgs({
  options: { only: { type: 'string' }, against: { type: 'string' }, rounds: { type: 'string' } },
});
const agencies = AgencyDirectory.fromFile(resolve('fixtures/agencies/hau-giang.yaml'));
type Normalise = (records: RawRecord[]) => SecurityEvent[];
const normalise: Normalise = createNormaliser({ agencies, defaultTimezone: 'Asia/Ho_Chi_Minh' });
const against: Normalise | undefined = options.against
  ? (
      (await import(resolve(options.against, 'ingest/normalise.ts'))) as {
        createNormaliser: (o: { agencies: unknown; defaultTimezone: string }) => Normalise;
      }
    ).createNormaliser({
      agencies: (
        (await import(resolve(options.against, 'core/agencies.ts'))) as {
          AgencyDirectory: { fromFile(path: string): unknown };
        }
      ).AgencyDirectory.fromFile(resolve('fixtures/agencies/hau-giang.yaml')),
      defaultTimezone: 'Asia/Ho_Chi_Minh',
    })
  : undefined;
const N = 10_000;
const receivedAt = Date.parse('2024-06-15T13:00:00Z');

function records(make: (i: number) => string): RawRecord[] {
  return Array.from({ length: N }, (_, i) => ({
    text: make(i),
    receivedAt: receivedAt + i,
    transport: 'udp',
    peer: `10.93.${(i % 30) + 1}.${i % 250}:514`,
    listener: 'syslog-udp',
    seq: i,
  }));
}

const ip = (i: number) => `203.0.${(i >> 8) & 255}.${i & 255}`;
const sshd = records((i) =>
  i % 4 === 3
    ? `<86>Jun 15 19:59:${String(i % 60).padStart(2, '0')} bastion sshd[${800 + (i % 50)}]: Accepted publickey for deploy from 10.93.2.44 port ${40000 + (i % 20000)} ssh2: ED25519 SHA256:Xf3vQ1Jb9aY0pWm5b8c7`
    : `<38>Jun 15 19:59:${String(i % 60).padStart(2, '0')} bastion sshd[${800 + (i % 50)}]: Failed password for invalid user user${i % 300} from ${ip(i)} port ${40000 + (i % 20000)} ssh2`,
);
const fortigate = records(
  (i) =>
    `<189>date=2024-06-15 time=19:59:${String(i % 60).padStart(2, '0')} devname="FG100F-STTTT" devid="FG100FTK20001234" eventtime=${1718456340000000000 + i * 1000000} tz="+0700" logid="0000000013" type="traffic" subtype="forward" level="notice" vd="root" srcip=10.93.2.${i % 250} srcport=${50000 + (i % 10000)} srcintf="port2" srcintfrole="lan" dstip=${ip(i)} dstport=443 dstintf="wan1" dstintfrole="wan" sessionid=${8800000 + i} proto=6 action="close" policyid=12 policytype="policy" policyname="LAN-to-Internet" service="HTTPS" trandisp="snat" transip=113.161.10.2 transport=${50000 + (i % 10000)} duration=62 sentbyte=${3000 + i} rcvdbyte=${90000 + i} sentpkt=28 rcvdpkt=80`,
);
const nginx = records(
  (i) =>
    `<190>Jun 15 19:59:${String(i % 60).padStart(2, '0')} portal nginx: ${ip(i)} - - [15/Jun/2024:19:59:${String(i % 60).padStart(2, '0')} +0700] "GET /api/v1/ho-so/${i}?trang=${i % 10} HTTP/1.1" ${i % 10 === 0 ? 404 : 200} ${1000 + i} "https://portal.haugiang.gov.vn/" "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36"`,
);

// UFW's and a plain iptables LOG rule's lines as the kernel writes them: MAC, both LEN/ID of TCP, flags.
const iptables = records((i) =>
  i % 3 === 0
    ? `<4>Jun 15 19:59:${String(i % 60).padStart(2, '0')} gw kernel: [${1000 + i}.${String(i % 1000).padStart(6, '0')}] DROP IN=eth0 OUT= SRC=198.18.${i % 250}.${(i >> 8) % 250} DST=10.93.2.${i % 250} LEN=60 TTL=52 PROTO=TCP SPT=${40000 + (i % 20000)} DPT=${[22, 80, 443, 3389, 8080][i % 5]} SYN`
    : `<4>Jun 15 19:59:${String(i % 60).padStart(2, '0')} gw kernel: [UFW BLOCK] IN=eth0 OUT= MAC=00:16:3e:5a:10:22:00:1c:58:29:4a:c1:08:00 SRC=${ip(i)} DST=10.93.2.${i % 250} LEN=60 TOS=0x00 PREC=0x00 TTL=${40 + (i % 20)} ID=${i % 65536} DF PROTO=TCP SPT=${40000 + (i % 20000)} DPT=${[22, 80, 443, 3389][i % 4]} WINDOW=64240 RES=0x00 ${i % 5 === 0 ? 'ACK PSH' : 'SYN'} URGP=0`,
);

// The normaliser takes batches: run it on batches of 500 as the worker does.
const batches = (all: RawRecord[]) =>
  Array.from({ length: all.length / 500 }, (_, b) => all.slice(b * 500, b * 500 + 500));
let sink = 0;
const streams = [
  { id: 'sshd', name: 'normalise sshd (3/4 failed, 1/4 accepted)', records: sshd },
  { id: 'fortigate', name: 'normalise FortiGate traffic', records: fortigate },
  { id: 'nginx', name: 'normalise nginx combined access', records: nginx },
  { id: 'iptables', name: 'normalise iptables/UFW (netfilter LOG)', records: iptables },
].filter((stream) => options.only === undefined || stream.id === options.only);

// As stored (JSON: key order, prototypes and undefined members do not matter), event ids aside.
const withoutId = (event: SecurityEvent) =>
  JSON.parse(JSON.stringify({ ...event, event: { ...event.event, id: undefined } }));
const contenders = streams.flatMap((stream) => {
  const mine = {
    name: stream.name,
    items: batches(stream.records),
    run: (batch: RawRecord[]) => {
      sink += normalise(batch).length;
    },
  };
  if (!against) return [mine];
  const theirs = normalise(stream.records);
  const ours = normalise(stream.records);
  const differing = ours.findIndex((event, i) => !isDeepStrictEqual(withoutId(event), withoutId(theirs[i]!)));
  if (differing >= 0) {
    console.log(`${stream.id}: outputs differ at line ${differing}:`);
    console.log(' against:', JSON.stringify(theirs[differing]));
    console.log(' this:   ', JSON.stringify(ours[differing]));
  }
  return [
    mine,
    {
      name: `${stream.name} [against]`,
      items: batches(stream.records),
      run: (batch: RawRecord[]) => {
        sink += against(batch).length;
      },
    },
  ];
});
const results = compare(contenders, Number(options.rounds ?? 7)).map((result) => ({
  ...result,
  perSecond: result.perSecond * 500,
  wallPerSecond: result.wallPerSecond * 500,
  rounds: result.rounds.map((r) => r * 500),
}));
report(results);
if (sink === 0) console.log('(no output)');
