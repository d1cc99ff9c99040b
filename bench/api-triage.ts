/**
 * API benchmark (issue 7): the real `siem-lite serve` (embedded mode, from source through tsx) over a store
 * holding 100k incidents and 1M events, loaded at a fixed 200 requests/s on loopback while
 * syslog ingest runs over TCP. Measures the incident list (p95 < 50 ms), tiles revalidated from cache
 * (304, p95 < 30 ms) and tiles computed cold (< 150 ms; the snapshot lives 5 s, so a request every 5.5 s
 * is a cold one).
 *
 *   npx tsx bench/api-triage.ts generate [--dir /tmp/siem-api-bench] [--events 1000000] [--incidents 100000]
 *                                        [--incidents-only]   (keep the events, write the incidents again)
 *   npx tsx bench/api-triage.ts run [--dir /tmp/siem-api-bench] [--rate 200] [--duration 20] [--ingest 500]
 *                                   [--generator paced|autocannon]   (arrivals: see load())
 *                                   [--cpu-prof /tmp/prof]   (V8 CPU profile of the serve process)
 *   npx tsx bench/api-triage.ts queries [--dir /tmp/siem-api-bench] [--mode scale]
 *                                   (the incident reads in-process: the store's share of a request)
 *
 * `generate` writes through the store adapters (EventStore.index in batches, IncidentStore.create); events
 * come from bench/event-dataset.ts (realistic lines through the real normaliser) over the last 7 days,
 * incidents over the last 30 days across the 31 agencies (older than three days: 97% closed). Not timed.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent as HttpAgent, get as httpGet } from 'node:http';
import { connect, createServer } from 'node:net';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import BetterSqlite3 from 'better-sqlite3';
import { ApiKeyService } from '../api/keys.js';
import type { Incident, IncidentStatus, Severity } from '../core/model.js';
import type { EventStore, IncidentStore } from '../core/ports.js';
import {
  createElasticsearchApiStores,
  createElasticsearchStores,
  indexNames,
} from '../store/elasticsearch/index.js';
import { type ApiStores, createSqliteApiStores, createSqliteStores } from '../store/sqlite/index.js';
import { ELASTICSEARCH_URL, REDIS_URL } from '../test/support/services.js';
import { eventBatches } from './event-dataset.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    dir: { type: 'string', default: '/tmp/siem-api-bench' },
    events: { type: 'string', default: '1000000' },
    incidents: { type: 'string', default: '100000' },
    rate: { type: 'string', default: '200' },
    /** paced (open loop, evenly spaced) or autocannon (its once-a-second budget per connection): see load(). */
    generator: { type: 'string', default: 'paced' },
    duration: { type: 'string', default: '20' },
    ingest: { type: 'string', default: '500' },
    'incidents-only': { type: 'boolean', default: false },
    /** scale: Elasticsearch under `--prefix` and Redis, `serve` plus one `worker`. */
    mode: { type: 'string', default: 'embedded' },
    prefix: { type: 'string', default: 'siem-api-bench' },
    /** Directory for a V8 CPU profile of the `serve` process (written when it exits at the end of the run). */
    'cpu-prof': { type: 'string' },
  },
});
const dir = values.dir;
const dataDir = join(dir, 'data');
const dbPath = join(dataDir, 'siem.sqlite');
const scale = values.mode === 'scale';

function openBenchStores(): {
  events: EventStore;
  incidents: IncidentStore;
  api: ApiStores;
  close(): Promise<void>;
  bulkIncidents?: (incidents: Incident[]) => Promise<void>;
} {
  if (!scale) {
    const stores = createSqliteStores({ path: dbPath });
    const api = createSqliteApiStores({ path: dbPath });
    return {
      events: stores.events,
      incidents: stores.incidents,
      api,
      close: async () => {
        await api.close();
        await stores.close();
      },
    };
  }
  const stores = createElasticsearchStores({ url: ELASTICSEARCH_URL, indexPrefix: values.prefix });
  const api = createElasticsearchApiStores({ url: ELASTICSEARCH_URL, indexPrefix: values.prefix });
  return {
    events: stores.events,
    incidents: stores.incidents,
    api,
    // Elasticsearch: the incidents go in by _bulk into the incident store's own index (create, by id), as
    // IncidentStore.create would write them one request each.
    bulkIncidents: async (incidents) => {
      const index = indexNames(values.prefix).incidents;
      const response = await stores.client.bulk({
        operations: incidents.flatMap((incident) => [
          { create: { _index: index, _id: incident.id } },
          incident,
        ]),
      });
      if (response.errors) throw new Error('incident bulk refused documents');
    },
    close: async () => {
      await api.close();
      await stores.close();
    },
  };
}

const AGENCIES = [
  'vp-ubnd',
  'so-tttt',
  'so-khcn',
  'so-noi-vu',
  'so-tai-chinh',
  'so-ke-hoach-dau-tu',
  'so-y-te',
  'so-gd-dt',
  'so-tn-mt',
  'so-xay-dung',
  'so-gtvt',
  'so-nn-ptnt',
  'so-cong-thuong',
  'so-lao-dong',
  'so-tu-phap',
  'so-van-hoa',
  'thanh-tra',
  'ban-dan-toc',
  'cong-an',
  'bhxh',
  'ubnd-vi-thanh',
  'ubnd-nga-bay',
  'ubnd-long-my-tx',
  'ubnd-chau-thanh',
  'ubnd-chau-thanh-a',
  'ubnd-phung-hiep',
  'ubnd-vi-thuy',
  'ubnd-long-my',
  'cong-dvc',
  'cong-ttdt',
  'trung-tam-ioc',
];
const RULES = [
  ['8777fb77-a27d-45a0-9f0a-2a8dc9f15429', 'SSH Failed Password', 'credential_access', 'T1110'],
  ['d10613ff-c77f-4b3d-a40c-cbc0d0a9d789', 'SSH Brute Force', 'credential_access', 'T1110.001'],
  ['5e9f1c2a-0000-4000-8000-00000000000a', 'Web SQL Injection', 'initial_access', 'T1190'],
  ['5e9f1c2a-0000-4000-8000-00000000000b', 'Firewall Port Scan', 'discovery', 'T1046'],
  [
    '5e9f1c2a-0000-4000-8000-00000000000c',
    'Sudo To Root By Unusual User',
    'privilege_escalation',
    'T1548.003',
  ],
] as const;
const STATUSES: IncidentStatus[] = [
  'new',
  'new',
  'acknowledged',
  'in_progress',
  'resolved',
  'resolved',
  'false_positive',
];
const SEVERITIES: Severity[] = ['low', 'medium', 'medium', 'high', 'critical'];

async function generate(): Promise<void> {
  const incidentsOnly = values['incidents-only'];
  if (!incidentsOnly) rmSync(dir, { recursive: true, force: true });
  mkdirSync(dataDir, { recursive: true });
  if (incidentsOnly && !scale) {
    const db = new BetterSqlite3(dbPath);
    db.exec('DELETE FROM incidents; DELETE FROM incident_keys;');
    db.close();
  }
  const stores = openBenchStores();
  await stores.events.init();
  await stores.incidents.init();
  const api = stores.api;
  await api.init();
  const now = Date.now();
  const total = incidentsOnly ? 0 : Number(values.events);
  let written = 0;
  let started = performance.now();
  for (const batch of total === 0
    ? []
    : eventBatches(total, { from: now - 7 * 86_400_000, to: now, batchSize: 5000 })) {
    await stores.events.index(batch);
    written += batch.length;
    if (written % 100_000 < batch.length) {
      const seconds = (performance.now() - started) / 1000;
      process.stdout.write(`events ${written} (${Math.round(written / seconds)}/s)\n`);
    }
  }
  started = performance.now();
  const incidents = Number(values.incidents);
  const pending: Incident[] = [];
  for (let i = 0; i < incidents; i++) {
    const [ruleId, ruleTitle, tactic, technique] = RULES[i % RULES.length]!;
    const agency = AGENCIES[(i * 7) % AGENCIES.length]!;
    const created = now - Math.floor((((i * 2654435761) % 1000) / 1000) * 30 * 86_400_000);
    // As in a working SOC: what is older than three days is almost all closed.
    const old = now - created > 3 * 86_400_000;
    const status =
      old && i % 33 !== 0 ? (i % 5 === 0 ? 'false_positive' : 'resolved') : STATUSES[i % STATUSES.length]!;
    const ip = `203.0.${(i >> 8) & 255}.${i & 255}`;
    const incident: Incident = {
      id: `bench-${i.toString(36).padStart(6, '0')}`,
      title: `${ruleTitle} — source.ip ${ip}`,
      severity: SEVERITIES[i % SEVERITIES.length]!,
      status,
      agency,
      assignee: i % 3 === 0 ? null : `analyst${i % 12}`,
      ruleId,
      ruleTitle,
      tactics: [tactic],
      techniques: [technique],
      dedupKey: `${agency}|${ruleId}|source.ip=${ip}|${i}`,
      groupBy: { 'source.ip': ip },
      firstSeen: new Date(created - 600_000).toISOString(),
      lastSeen: new Date(created + (i % 50) * 60_000).toISOString(),
      detectionCount: 1 + (i % 40),
      evidenceEventIds: [],
      appliedBatches: [],
      tags: i % 10 === 0 ? ['noisy'] : [],
      createdAt: new Date(created).toISOString(),
      updatedAt: new Date(created + 60_000).toISOString(),
      timeline: [{ at: new Date(created).toISOString(), actor: 'system', action: 'opened' }],
      ...(status !== 'new'
        ? {
            acknowledgedAt: new Date(created + 300_000).toISOString(),
            timeToAcknowledgeMs: 300_000 + (i % 60) * 10_000,
          }
        : {}),
      ...(status === 'resolved' || status === 'false_positive'
        ? {
            closedAt: new Date(created + 3_600_000).toISOString(),
            timeToResolveMs: 3_600_000 + (i % 90) * 60_000,
          }
        : {}),
    };
    if (stores.bulkIncidents) {
      pending.push(incident);
      if (pending.length === 2000 || i === incidents - 1) {
        await stores.bulkIncidents(pending);
        pending.length = 0;
      }
    } else await stores.incidents.create(incident);
  }
  await stores.events.refresh();
  await stores.incidents.refresh();
  process.stdout.write(`incidents ${incidents} in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  await stores.close();
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function summary(label: string, times: number[], statuses: Map<number, number>): string {
  const sorted = [...times].sort((a, b) => a - b);
  const codes = [...statuses].map(([code, n]) => `${code}×${n}`).join(' ');
  return `${label.padEnd(34)} n=${String(sorted.length).padStart(5)}  p50 ${percentile(sorted, 50).toFixed(1)} ms  p95 ${percentile(sorted, 95).toFixed(1)} ms  p99 ${percentile(sorted, 99).toFixed(1)} ms  max ${sorted.at(-1)?.toFixed(1)} ms  [${codes}]`;
}

/** CPU time (user + system) the process `pid` has used so far, in ms (Linux /proc; NaN elsewhere). */
function processCpuMs(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    // utime and stime, fields 14 and 15 of stat(5), in clock ticks (USER_HZ, 100 on Linux).
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return Number.NaN;
  }
}

/**
 * One phase at a fixed rate; latencies per response. `cpu`: the serve process's CPU over the phase per
 * response, less what ingest alone used (`ingestCpuMsPerS`) — on a shared machine a cost the neighbours'
 * load does not change, unlike the wall times.
 *
 * Two generators (`--generator`). `paced` (the default) sends one request every 1/rate s, open loop, over
 * keep-alive connections, and times each from when it was due (a late send counts against the server:
 * no coordinated omission) — requests arriving through the second, as from many consoles and walls.
 * `autocannon` spends each connection's share of the second's budget as fast as answers come, at the top
 * of every second (its rate limit resets once a second for all 20 connections together): 200 requests in
 * a burst, 20 in flight, then silence — the same rate, a harsher arrival pattern; kept for comparison.
 */
async function load(
  url: string,
  keys: string[],
  headers: Record<string, string>,
  label: string,
  cpu?: { pid: number | undefined; ingestCpuMsPerS: number },
): Promise<string> {
  const cpuBefore = processCpuMs(cpu?.pid);
  const started = performance.now();
  const times: number[] = [];
  const statuses = new Map<number, number>();
  const outcome =
    values.generator === 'autocannon'
      ? await autocannonLoad(url, keys, headers, times, statuses)
      : await pacedLoad(url, keys, headers, times, statuses);
  const seconds = (performance.now() - started) / 1000;
  const perRequest = cpu
    ? ` cpu/req ${((processCpuMs(cpu.pid) - cpuBefore - cpu.ingestCpuMsPerS * seconds) / Math.max(1, times.length)).toFixed(1)} ms`
    : '';
  return `${summary(label, times, statuses)} errors ${outcome.errors} timeouts ${outcome.timeouts} sent ${outcome.sent}${perRequest}`;
}

interface LoadOutcome {
  errors: number;
  timeouts: number;
  sent: number;
}

/** A load generator: sends to `url` at `--rate` for `--duration`, in turn with `keys`, recording latencies and statuses. */
type Load = (
  url: string,
  keys: string[],
  headers: Record<string, string>,
  times: number[],
  statuses: Map<number, number>,
) => Promise<LoadOutcome>;

/** Open loop at `--rate`: request i is due at start + i/rate; its latency runs from then to the last byte. */
const pacedLoad: Load = async (url, keys, headers, times, statuses) => {
  const agent = new HttpAgent({ keepAlive: true, maxSockets: 64 });
  const intervalMs = 1000 / Number(values.rate);
  const total = Math.round(Number(values.rate) * Number(values.duration));
  const outcome: LoadOutcome = { errors: 0, timeouts: 0, sent: 0 };
  const pending: Promise<void>[] = [];
  const start = performance.now();
  for (let i = 0; i < total; i++) {
    const due = start + i * intervalMs;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    outcome.sent++;
    pending.push(
      new Promise<void>((resolve) => {
        const request = httpGet(
          url,
          {
            agent,
            headers: { ...headers, authorization: `Bearer ${keys[i % keys.length]}` },
            timeout: 10_000,
          },
          (response) => {
            response.resume();
            response.on('end', () => {
              times.push(performance.now() - due);
              statuses.set(response.statusCode ?? 0, (statuses.get(response.statusCode ?? 0) ?? 0) + 1);
              resolve();
            });
          },
        );
        let timedOut = false;
        request.on('timeout', () => {
          timedOut = true;
          outcome.timeouts++;
          request.destroy();
        });
        request.on('error', () => {
          if (!timedOut) outcome.errors++;
          resolve();
        });
      }),
    );
  }
  await Promise.all(pending);
  agent.destroy();
  return outcome;
};

const autocannonLoad: Load = async (url, keys, headers, times, statuses) => {
  const path = new URL(url).pathname + new URL(url).search;
  const instance = autocannon({
    url,
    // One analyst key per request in turn: the API's rate limit is per key, as for a team of analysts.
    requests: keys.map((key) => ({
      method: 'GET',
      path,
      headers: { ...headers, authorization: `Bearer ${key}` },
    })),
    connections: 20,
    overallRate: Number(values.rate),
    duration: Number(values.duration),
  });
  instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
    times.push(ms);
    statuses.set(status, (statuses.get(status) ?? 0) + 1);
  });
  const result = (await instance) as { errors: number; timeouts: number; requests: { sent: number } };
  return { errors: result.errors, timeouts: result.timeouts, sent: result.requests.sent };
};

/** Syslog over TCP at a steady rate while the load runs (ingest, normalise, match, index in the server). */
function startIngest(port: number, perSecond: number): () => void {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => {});
  let seq = 0;
  const timer = setInterval(() => {
    const lines: string[] = [];
    for (let i = 0; i < perSecond / 10; i++) {
      seq++;
      const host = `web${seq % 40}`;
      const line =
        seq % 3 === 0
          ? `<38>1 ${new Date().toISOString()} ${host} sshd 4242 - - Failed password for root from 198.51.100.${seq % 250} port ${40000 + (seq % 20000)} ssh2`
          : `<190>1 ${new Date().toISOString()} ${host} nginx - - - 10.93.2.${seq % 250} - - [26/Nov/2026:10:00:00 +0700] "GET /portal/page/${seq % 500} HTTP/1.1" 200 512 "-" "Mozilla/5.0"`;
      lines.push(`${Buffer.byteLength(line)} ${line}`);
    }
    socket.write(lines.join(''));
  }, 100);
  return () => {
    clearInterval(timer);
    socket.end();
  };
}

async function run(): Promise<void> {
  // An admin key of our own for this run (a previous run's file may be gone), made in the store directly.
  const keyStores = openBenchStores();
  await keyStores.api.init();
  const { key: adminKey } = await new ApiKeyService(keyStores.api.keys).create({
    name: 'bench admin',
    role: 'admin',
  });
  await keyStores.close();
  const apiPort = await freePort();
  const syslogPort = await freePort();
  const configFile = join(dir, 'siem-lite.yaml');
  writeFileSync(
    configFile,
    [
      `mode: ${scale ? 'scale' : 'embedded'}`,
      `data_dir: ${dataDir}`,
      `elasticsearch: { url: "${ELASTICSEARCH_URL}", index_prefix: ${values.prefix} }`,
      `redis: { url: "${REDIS_URL}", prefix: ${values.prefix} }`,
      'log_level: warn',
      `api: { host: 127.0.0.1, port: ${apiPort} }`,
      'ingest:',
      `  listeners: [{ id: syslog-tcp, transport: tcp, host: 127.0.0.1, port: ${syslogPort}, agency: so-tttt }]`,
    ].join('\n'),
  );
  const child: ChildProcess = spawn(
    process.execPath,
    [
      ...(values['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${values['cpu-prof']}`] : []),
      '--import',
      'tsx',
      'bin/main.ts',
      'serve',
      '--config',
      configFile,
    ],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let output = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const worker: ChildProcess | undefined = scale
    ? spawn(process.execPath, ['--import', 'tsx', 'bin/main.ts', 'worker', '--config', configFile], {
        stdio: ['ignore', 'ignore', 'ignore'],
      })
    : undefined;
  const base = `http://127.0.0.1:${apiPort}`;
  try {
    const deadline = Date.now() + 120_000;
    for (;;) {
      const ok = await fetch(`${base}/healthz`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      if (Date.now() > deadline) throw new Error(`server did not start:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    // The rate limit is per key (1200/min): the load is spread over a team's worth of analyst keys.
    const keys: string[] = [];
    for (let i = 0; i < 30; i++) {
      const created = await fetch(`${base}/api/keys`, {
        method: 'POST',
        headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: `bench analyst ${i}`, role: 'analyst' }),
      });
      keys.push(((await created.json()) as { key: string }).key);
    }
    const auth = { authorization: `Bearer ${keys[0]}` };
    const lines: string[] = [];
    // Service time first: one request at a time, no ingest, every key verified once beforehand.
    for (const key of keys)
      await fetch(`${base}/api/incidents?limit=1`, { headers: { authorization: `Bearer ${key}` } });
    for (const [label, path, extra] of [
      ['sequential: incidents list', '/api/incidents?limit=50', {}],
      [
        'sequential: incidents filtered',
        '/api/incidents?status=new&status=acknowledged&severity=high&severity=critical&limit=20',
        {},
      ],
      ['sequential: tiles (cached, 304)', '/api/ioc/tiles', { 'if-none-match': 'etag' }],
    ] as const) {
      const times: number[] = [];
      const statuses = new Map<number, number>();
      let etag = '';
      for (let i = 0; i < 40; i++) {
        const started = performance.now();
        const response = await fetch(`${base}${path}`, {
          headers: { ...auth, ...('if-none-match' in extra ? { 'if-none-match': etag } : {}) },
        });
        await response.arrayBuffer();
        times.push(performance.now() - started);
        etag = response.headers.get('etag') ?? etag;
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
      }
      lines.push(summary(label, times, statuses));
    }
    const stopIngest = startIngest(syslogPort, Number(values.ingest));
    const load1 = loadavg()[0]!.toFixed(1);
    // What ingest alone costs the serve process, so that the phases below can report the API's share.
    const ingestCpuStart = processCpuMs(child.pid);
    await new Promise((resolve) => setTimeout(resolve, 5000));
    const ingestCpuMsPerS = (processCpuMs(child.pid) - ingestCpuStart) / 5;
    const cpu = { pid: child.pid, ingestCpuMsPerS };

    // Tiles computed cold: the snapshot lives 5 s, so one request every 5.5 s recomputes it.
    const cold: number[] = [];
    let probing = true;
    const prober = (async () => {
      while (probing) {
        const started = performance.now();
        const response = await fetch(`${base}/api/ioc/tiles`, { headers: auth });
        await response.arrayBuffer();
        cold.push(performance.now() - started);
        await new Promise((resolve) => setTimeout(resolve, 5500));
      }
    })();
    lines.push(await load(`${base}/api/incidents?limit=50`, keys, {}, 'incidents list (default sort)', cpu));
    lines.push(
      await load(
        `${base}/api/incidents?status=new&status=acknowledged&severity=high&severity=critical&limit=20`,
        keys,
        {},
        'incidents list (filtered)',
        cpu,
      ),
    );
    probing = false;
    await prober;
    const etag = (await fetch(`${base}/api/ioc/tiles`, { headers: auth })).headers.get('etag') ?? '';
    lines.push(
      await load(`${base}/api/ioc/tiles`, keys, { 'if-none-match': etag }, 'tiles revalidated (304)', cpu),
    );
    stopIngest();
    const sortedCold = [...cold].sort((a, b) => a - b);
    lines.push(
      `tiles cold (one per 5.5 s)          n=${String(cold.length).padStart(5)}  p50 ${percentile(sortedCold, 50).toFixed(1)} ms  max ${sortedCold.at(-1)?.toFixed(1)} ms  (${cold.map((t) => t.toFixed(0)).join(', ')})`,
    );
    const sources = await fetch(`${base}/api/sources?agency=so-tttt`, { headers: auth });
    const ingested = ((await sources.json()) as { sources: { events: number }[] }).sources.reduce(
      (s, x) => s + x.events,
      0,
    );
    process.stdout.write(
      `load average at start ${load1}, at end ${loadavg()[0]!.toFixed(1)}; ingest ${values.ingest} lines/s over TCP (${ingested} counted by the inventory), ingest alone ${ingestCpuMsPerS.toFixed(0)} ms CPU/s in serve\n${lines.join('\n')}\n`,
    );
  } finally {
    child.kill('SIGTERM');
    worker?.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    if (worker) await new Promise((resolve) => worker.once('exit', resolve));
  }
}

/**
 * The API's incident reads in-process (`IncidentQueries` of the mode's store, no HTTP, no ingest): wall p50
 * and p95 and CPU p50 per call, to tell the store's share of a request from the rest.
 */
async function queries(): Promise<void> {
  const stores = openBenchStores();
  await stores.api.init();
  const q = stores.api.incidentQueries;
  const now = Date.now();
  const range = (days: number) => ({
    from: new Date(now - days * 86_400_000).toISOString(),
    to: new Date(now).toISOString(),
  });
  const cases: [string, () => Promise<unknown>, number][] = [
    ['default list (50)', () => q.search({ limit: 50 }), 30],
    // What GET /api/incidents reads (list items) and serialises, against whole documents serialised.
    ['default list (50) + JSON text', () => q.search({ limit: 50 }).then(JSON.stringify), 30],
    ['default list items (50) + JSON text', () => q.list({ limit: 50 }).then(JSON.stringify), 30],
    ['status resolved (50)', () => q.search({ status: ['resolved'], limit: 50 }), 30],
    [
      'status new+acknowledged, severity high+critical (20)',
      () => q.search({ status: ['new', 'acknowledged'], severity: ['high', 'critical'], limit: 20 }),
      30,
    ],
    ['open statuses (50)', () => q.search({ status: ['new', 'acknowledged', 'in_progress'], limit: 50 }), 30],
    ['severity critical (50)', () => q.search({ severity: ['critical'], limit: 50 }), 30],
    [
      'three agencies, open (50)',
      () =>
        q.search({
          agencies: ['so-tttt', 'so-y-te', 'bhxh'],
          status: ['new', 'acknowledged', 'in_progress'],
          limit: 50,
        }),
      30,
    ],
    ['assignee analyst1 (50)', () => q.search({ assignee: 'analyst1', limit: 50 }), 30],
    ['tactic discovery (50)', () => q.search({ tactic: 'discovery', limit: 50 }), 10],
    [
      'sorted by severity (50)',
      () => q.search({ sort: { field: 'severity', order: 'desc' }, limit: 50 }),
      10,
    ],
    ['summarize 24 h (hourly)', () => q.summarize({ ...range(1), bucketMs: 3_600_000, topTactics: 5 }), 5],
    ['summarize 30 days (one bucket)', () => q.summarize({ ...range(30), bucketMs: 30 * 86_400_000 }), 3],
  ];
  const lines = [`load average ${loadavg()[0]!.toFixed(1)}`];
  for (const [label, call, n] of cases) {
    const walls: number[] = [];
    const cpus: number[] = [];
    let total: number | undefined;
    for (let i = 0; i < n; i++) {
      const cpu = process.cpuUsage();
      const started = performance.now();
      const result = (await call()) as { total?: number };
      walls.push(performance.now() - started);
      const used = process.cpuUsage(cpu);
      cpus.push((used.user + used.system) / 1000);
      total = result.total;
    }
    walls.sort((a, b) => a - b);
    cpus.sort((a, b) => a - b);
    lines.push(
      `${label.padEnd(52)} n=${String(n).padStart(3)}  wall p50 ${percentile(walls, 50).toFixed(1)} ms  p95 ${percentile(walls, 95).toFixed(1)} ms  cpu p50 ${percentile(cpus, 50).toFixed(1)} ms${total === undefined ? '' : `  (total ${total})`}`,
    );
  }
  lines.push(`load average ${loadavg()[0]!.toFixed(1)}`);
  process.stdout.write(`${lines.join('\n')}\n`);
  await stores.close();
}

if (positionals[0] === 'generate') await generate();
else if (positionals[0] === 'run') await run();
else if (positionals[0] === 'queries') await queries();
else {
  process.stderr.write('usage: npx tsx bench/api-triage.ts generate|run|queries [options]\n');
  process.exit(2);
}
