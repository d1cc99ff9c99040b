/**
 * End to end: syslog over TCP → indexed + matched + correlated, through the real CLI (`siem-lite serve`, and
 * `siem-lite worker`s in scale mode), with the bundled pack. Reports
 * - throughput: lines sent, and events indexed per second until every line is indexed (the sustained rate);
 * - latency from receipt to incident visible through the API: every 2 s a probe (10 failed SSH passwords
 *   from a fresh address, which the SSH Brute Force correlation turns into an incident) is timed from its
 *   last line written to the incident listed by `GET /api/incidents`;
 * - peak RSS of the process that runs the worker stages (serve in embedded mode, each worker in scale mode).
 *
 * - CPU seconds used by the processes running the worker stages (from /proc), and the load average before
 *   and after: on a shared machine, events per CPU-second is the steadier figure. In scale mode also the
 *   CPU an event of the API process (ingest), the Elasticsearch node and Redis, which share the cores.
 *
 * Rules: the bundled pack plus `--sigma` SigmaHQ detection rules (default 1,000: issue 6's load; 0 for the
 * pack alone; see bench/pipeline-sigma-sample.ts, needs ../shared/data/sigma). `--concurrency` sets
 * `queue.worker_concurrency` (batches in flight per process), `--pending` `queue.max_pending_batches` (batches
 * waiting: at `--rate 0` the sender keeps the queue full, so they are part of serve's memory), `--batch`
 * `ingest.batch_max_records`;
 * `--cpu-prof DIR` writes CPU profiles of the worker stages' processes (every thread) there; `--node-args
 * "…"` passes flags to node in every siem-lite process (e.g. "--max-old-space-size=1024").
 *
 *   npx tsx bench/e2e.ts --mode embedded|scale [--workers 1] [--seconds 60] [--rate 2000] [--sigma 1000]
 *                        [--concurrency 2] [--pending 200] [--batch 500] [--cpu-prof DIR]
 *                        [--node-args "--flag …"]
 *
 * `--rate 0` sends as fast as the listener takes lines. The mix: 70% firewall (iptables), 20% nginx access,
 * 10% sshd, from 31 agencies' address ranges; keep runs to a minute on the shared 2-core machine.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { deleteIndices, ELASTICSEARCH_URL, REDIS_URL, uniquePrefix } from '../test/support/services.js';
import { freePort, type SiemProcess, startSiem, waitFor } from '../test/support/siem-process.js';
import { sigmaSamplePack } from './pipeline-sigma-sample.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? args[at + 1]! : fallback;
};
const MODE = option('mode', 'embedded') as 'embedded' | 'scale';
const WORKERS = Number(option('workers', '1'));
const SECONDS = Number(option('seconds', '60'));
const RATE = Number(option('rate', '2000'));
const SIGMA = Number(option('sigma', '1000'));
const CONCURRENCY = option('concurrency', '');
const PENDING = option('pending', '');
const BATCH_RECORDS = option('batch', '');
/** A folder for CPU profiles of the processes running the worker stages (node --cpu-prof, all threads). */
const CPU_PROF = option('cpu-prof', '');
/** Flags for node itself in the processes running the worker stages (V8 heap settings: not all are allowed in NODE_OPTIONS). */
const NODE_ARGS = option('node-args', '').split(' ').filter(Boolean);
const BRUTE_FORCE = 'd10613ff-c77f-4b3d-a40c-cbc0d0a9d789';

const iso = (ms: number) => new Date(ms).toISOString();
function line(i: number, now: number): string {
  const agency = 1 + (i % 31);
  const host = `10.93.${agency}.${10 + (i % 200)}`;
  const kind = i % 10;
  if (kind < 7) {
    const verdict = i % 3 === 0 ? '[UFW BLOCK]' : 'nft-accept';
    return `<4>1 ${iso(now)} gw${agency} kernel - - - ${verdict} IN=eth0 OUT= SRC=198.18.${i % 250}.${(i >> 8) % 250} DST=${host} LEN=60 TTL=52 PROTO=TCP SPT=${40000 + (i % 20000)} DPT=${[22, 80, 443, 3389, 8080][i % 5]} SYN`;
  }
  if (kind < 9) {
    const local = iso(now).replace(/^(\d{4})-(\d{2})-(\d{2})T(\d{2}:\d{2}:\d{2}).*$/, '$3/Nov/$1:$4 +0000');
    return `<190>1 ${iso(now)} portal${agency} nginx - - - 198.19.${i % 250}.${(i >> 8) % 250} - - [${local}] "GET /van-ban/${i % 5000} HTTP/1.1" 200 ${1000 + (i % 9000)} "-" "Mozilla/5.0 (Windows NT 10.0) Chrome/124.0"`;
  }
  return `<86>1 ${iso(now)} app${agency} sshd ${1000 + (i % 5000)} - - Accepted publickey for deploy from ${host} port ${50000 + (i % 10000)} ssh2`;
}
const probeLine = (probe: number, n: number, now: number) =>
  `<38>1 ${iso(now)} bastion sshd 811 - - Failed password for root from 203.0.${113 + (probe >> 8)}.${probe & 255} port ${41000 + n} ssh2`;

/** User + system CPU seconds a process has used so far (/proc/<pid>/stat, clock ticks of 1/100 s). */
function cpuSecondsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/** Resident memory of a process in bytes: all of it, and its anonymous part (heaps, SQLite's page caches). */
function rssOf(pid: number): { rss: number; anonymous: number } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) * 1024;
    return { rss: kb('VmRSS'), anonymous: kb('RssAnon') };
  } catch {
    return { rss: 0, anonymous: 0 };
  }
}

/**
 * Processes of the services beside ours, found by their command line (Linux /proc): the Elasticsearch node
 * and the Redis server, whose CPU per event a scale-mode run reports too (on 2 shared cores, where it goes).
 */
function servicePids(): { name: string; pid: number }[] {
  const found: { name: string; pid: number }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let command: string;
    try {
      command = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
    } catch {
      continue; // ended meanwhile
    }
    if (command.includes('org.elasticsearch.bootstrap') || command.includes('org.elasticsearch.server'))
      found.push({ name: 'Elasticsearch', pid: Number(entry) });
    else if (command.startsWith('redis-server')) found.push({ name: 'Redis', pid: Number(entry) });
  }
  return found;
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
};

async function main() {
  const dir = mkdtempSync(join(tmpdir(), `siem-bench-${MODE}-`));
  const prefix = uniquePrefix(`bench-e2e-${MODE}`);
  const apiPort = await freePort();
  const tcpPort = await freePort();
  const config = join(dir, 'siem-lite.yaml');
  const packs = ['rules/packs/hau-giang'];
  if (SIGMA > 0) packs.push(sigmaSamplePack(join(dir, 'sigma'), SIGMA));
  writeFileSync(
    config,
    [
      `mode: ${MODE}`,
      `data_dir: ${join(dir, 'data')}`,
      'log_level: warn',
      `elasticsearch: { url: "${ELASTICSEARCH_URL}", index_prefix: ${prefix} }`,
      `redis: { url: "${REDIS_URL}", prefix: ${prefix} }`,
      `api: { host: 127.0.0.1, port: ${apiPort} }`,
      `rules: { packs: ${JSON.stringify(packs)} }`,
      `queue: ${JSON.stringify({
        ...(CONCURRENCY ? { worker_concurrency: Number(CONCURRENCY) } : {}),
        ...(PENDING ? { max_pending_batches: Number(PENDING) } : {}),
      })}`,
      'ingest:',
      ...(BATCH_RECORDS ? [`  batch_max_records: ${Number(BATCH_RECORDS)}`] : []),
      `  listeners: [{ id: bench-tcp, transport: tcp, host: 127.0.0.1, port: ${tcpPort}, agency: so-tttt }]`,
    ].join('\n'),
  );
  const profile = [...NODE_ARGS, ...(CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', CPU_PROF] : [])];
  const processes: SiemProcess[] = [
    startSiem(['serve', '--config', config], {}, MODE === 'scale' ? NODE_ARGS : profile),
  ];
  for (let w = 0; MODE === 'scale' && w < WORKERS; w++)
    processes.push(startSiem(['worker', '--config', config], {}, profile));
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  const output = () =>
    processes
      .map((p) => p.output())
      .join('\n')
      .slice(-3000);
  try {
    await waitFor(
      async () => ((await fetch(`${apiUrl}/healthz`)).ok ? true : undefined),
      'API',
      90_000,
      output,
    );
    const key = readFileSync(join(dir, 'data', 'admin.key'), 'utf8').trim();
    const api = async <T>(path: string) =>
      (await (await fetch(`${apiUrl}${path}`, { headers: { authorization: `Bearer ${key}` } })).json()) as T;
    if (MODE === 'scale') await new Promise((resolve) => setTimeout(resolve, 8000)); // workers up
    const stagePids = (MODE === 'scale' ? processes.slice(1) : processes.slice(0, 1)).map(
      (p) => p.child.pid!,
    );
    const loadBefore = loadavg()[0]!;
    const cpuBefore = stagePids.map(cpuSecondsOf);
    // Scale mode: the API process (ingest) and the services take their share of the same two cores.
    const others =
      MODE === 'scale' ? [{ name: 'API (serve)', pid: processes[0]!.child.pid! }, ...servicePids()] : [];
    const othersBefore = others.map(({ pid }) => cpuSecondsOf(pid));
    let peakRss = 0;
    let peakAnonymous = 0;
    const rssTimer = setInterval(() => {
      for (const pid of stagePids) {
        const { rss, anonymous } = rssOf(pid);
        peakRss = Math.max(peakRss, rss);
        peakAnonymous = Math.max(peakAnonymous, anonymous);
      }
    }, 500);

    const socket = connect({ host: '127.0.0.1', port: tcpPort });
    await new Promise((resolve) => socket.once('connect', resolve));
    const write = (text: string) =>
      socket.write(`${text}\n`) ? Promise.resolve() : new Promise((resolve) => socket.once('drain', resolve));

    const probes = new Map<string, number>(); // address → time its last line was written
    let lastProbe = performance.now();
    const latencies: number[] = [];
    let polling = true;
    const poller = (async () => {
      while (polling || probes.size > 0) {
        if (probes.size > 0) {
          const list = await api<{ incidents: { groupBy: Record<string, string> }[] }>(
            `/api/incidents?rule=${BRUTE_FORCE}&limit=200`,
          ).catch(() => ({ incidents: [] }));
          const now = performance.now();
          for (const incident of list.incidents) {
            const sent = probes.get(incident.groupBy['source.ip'] ?? '');
            if (sent !== undefined) {
              latencies.push(now - sent);
              probes.delete(incident.groupBy['source.ip']!);
            }
          }
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
        if (!polling && performance.now() - lastProbe > 60_000) break;
      }
    })();

    let sent = 0;
    let probe = 0;
    const started = performance.now();
    const end = started + SECONDS * 1000;
    let nextProbe = started + 2000;
    while (performance.now() < end) {
      const now = performance.now();
      if (now >= nextProbe) {
        const address = `203.0.${113 + (probe >> 8)}.${probe & 255}`;
        for (let n = 0; n < 10; n++) await write(probeLine(probe, n, Date.now()));
        sent += 10;
        lastProbe = performance.now();
        probes.set(address, lastProbe);
        probe++;
        nextProbe += 2000;
      }
      const due = RATE > 0 ? Math.floor(((now - started) / 1000) * RATE) : sent + 500;
      const wall = Date.now();
      while (sent < due) await write(line(sent++, wall));
      if (RATE > 0) await new Promise((resolve) => setTimeout(resolve, 5));
      else await new Promise((resolve) => setImmediate(resolve));
    }
    const sendSeconds = (performance.now() - started) / 1000;
    socket.end();
    const indexedBy = await waitFor(
      async () => {
        // Scale mode: event indices refresh every 5 s; refresh them here so the rate counts events written,
        // not the wait for the next scheduled refresh (up to 5 s on a 20 s run). Only once the node has
        // indexed them all (its indexing stats count writes before any refresh): a refresh at every 200 ms
        // probe while the pipeline caught up made a small segment each, and merging those cost the node
        // CPU that a steady run (a refresh every 5 s) does not pay, inflating its CPU an event.
        if (MODE === 'scale') {
          const stats = (await (
            await fetch(`${ELASTICSEARCH_URL}/${prefix}-events-*/_stats/indexing?allow_no_indices=true`)
          ).json()) as { _all?: { primaries?: { indexing?: { index_total?: number } } } };
          if ((stats._all?.primaries?.indexing?.index_total ?? 0) < sent) return undefined;
          await fetch(`${ELASTICSEARCH_URL}/${prefix}-events-*/_refresh?allow_no_indices=true`, {
            method: 'POST',
          });
        }
        const page = await api<{ total: number }>('/api/events?limit=1');
        return page.total >= sent ? performance.now() : undefined;
      },
      `${sent} events indexed`,
      600_000,
      output,
    );
    polling = false;
    await Promise.race([poller, new Promise((resolve) => setTimeout(resolve, 30_000))]);
    clearInterval(rssTimer);
    const cpuSeconds = stagePids.reduce((sum, pid, i) => sum + cpuSecondsOf(pid) - cpuBefore[i]!, 0);
    const othersSeconds = others.map(({ pid }, i) => cpuSecondsOf(pid) - othersBefore[i]!);
    const allSeconds = (indexedBy - started) / 1000;
    console.log(
      `${MODE}${MODE === 'scale' ? ` (${WORKERS} worker${WORKERS > 1 ? 's' : ''})` : ''}: sent ${sent} lines in ${sendSeconds.toFixed(1)} s ` +
        `(${Math.round(sent / sendSeconds)} lines/s offered); all indexed + matched + correlated after ${allSeconds.toFixed(1)} s: ` +
        `${Math.round(sent / allSeconds)} events/s sustained`,
    );
    console.log(
      `latency receipt → incident visible (${latencies.length}/${probe} probes): p50 ${Math.round(percentile(latencies, 50))} ms, ` +
        `p99 ${Math.round(percentile(latencies, 99))} ms, max ${Math.round(Math.max(...latencies))} ms`,
    );
    console.log(
      `peak RSS of the worker stages: ${Math.round(peakRss / 1024 / 1024)} MB ` +
        `(anonymous: ${Math.round(peakAnonymous / 1024 / 1024)} MB)`,
    );
    console.log(
      `CPU of the worker stages' processes: ${cpuSeconds.toFixed(1)} s = ${Math.round(sent / cpuSeconds)} events per CPU-second; ` +
        `load average ${loadBefore.toFixed(1)} → ${loadavg()[0]!.toFixed(1)}; ${SIGMA > 0 ? `bundled pack + ${SIGMA} SigmaHQ rules` : 'bundled pack'}`,
    );
    const perEvent = (seconds: number) => `${Math.round((seconds / sent) * 1e6)} µs`;
    if (others.length > 0)
      console.log(
        `CPU an event: worker stages ${perEvent(cpuSeconds)}, ` +
          others.map(({ name }, i) => `${name} ${perEvent(othersSeconds[i]!)}`).join(', '),
      );
  } finally {
    await Promise.all(processes.map((p) => p.stop()));
    if (MODE === 'scale') {
      await deleteIndices(prefix);
      const redis = new Redis(REDIS_URL);
      const keys = await redis.keys(`${prefix}:*`);
      for (let i = 0; i < keys.length; i += 1000) await redis.del(...keys.slice(i, i + 1000));
      redis.disconnect();
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
