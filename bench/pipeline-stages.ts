/**
 * Where a worker's time goes: the stages of one batch (normalise → match → correlate → index → incidents)
 * timed separately over the same mixed syslog stream as bench/e2e.ts, in embedded mode (SQLite, windows in
 * memory) or scale mode (Elasticsearch, windows in Redis). In-process, no listener and no queue.
 *
 * Rules: the bundled pack plus `--sigma` SigmaHQ detection rules (default 1,000, issue 6's load; 0 for the
 * pack alone), see bench/pipeline-sigma-sample.ts. Besides wall time per stage it prints the process's CPU
 * time per stage (`process.cpuUsage`, all threads), which a loaded machine distorts far less.
 *
 * Embedded mode writes on the store's writer thread, as `siem-lite serve` does (`--inline`: on the main
 * connection, as before it had one).
 *
 * `--pipelined N`: instead of timing the stages one after another, runs the worker's real batch handler
 * (correlator/pipeline.ts) on the in-process queue with N batches in flight, as `siem-lite serve` does
 * (`queue.worker_concurrency`): one batch's store writes overlap the next one's parsing and matching, so
 * this is the in-process ceiling of the whole worker (no listener, no API), in events/s and CPU per event.
 *
 *   npx tsx bench/pipeline-stages.ts [--mode embedded|scale] [--events 50000] [--batch 500] [--sigma 1000]
 *                                    [--inline] [--pipelined 2]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { AgencyDirectory } from '../core/agencies.js';
import { createLogger } from '../core/logger.js';
import type { Detection, RawRecord } from '../core/model.js';
import { Correlator } from '../correlator/correlation/correlate.js';
import { MemoryStateStore } from '../correlator/correlation/memory-state-store.js';
import { RedisStateStore } from '../correlator/correlation/redis-state-store.js';
import { detect } from '../correlator/detect.js';
import { IncidentWriter } from '../correlator/incidents.js';
import { createBatchProcessor } from '../correlator/pipeline.js';
import { InProcessQueue } from '../correlator/queue/in-process.js';
import { createNormaliser } from '../ingest/normalise.js';
import { BUNDLED_PACK, loadRuleSet } from '../rules/index.js';
import { createElasticsearchStores } from '../store/elasticsearch/index.js';
import { createSqliteStores } from '../store/sqlite/index.js';
import { deleteIndices, ELASTICSEARCH_URL, REDIS_URL, uniquePrefix } from '../test/support/services.js';
import { sigmaSamplePack } from './pipeline-sigma-sample.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? args[at + 1]! : fallback;
};
const MODE = option('mode', 'embedded');
const EVENTS = Number(option('events', '50000'));
const BATCH = Number(option('batch', '500'));
const SIGMA = Number(option('sigma', '1000'));
const PIPELINED = Number(option('pipelined', '0'));
const logger = createLogger({ level: 'silent' });
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
    return `<190>1 ${iso(now)} portal${agency} nginx - - - 198.19.${i % 250}.${(i >> 8) % 250} - - [26/Nov/2026:02:00:00 +0000] "GET /van-ban/${i % 5000} HTTP/1.1" 200 ${1000 + (i % 9000)} "-" "Mozilla/5.0 Chrome/124.0"`;
  }
  return `<38>1 ${iso(now)} app${agency} sshd 1000 - - Failed password for root from 198.20.${i % 250}.${(i >> 8) % 250} port ${50000 + (i % 10000)} ssh2`;
}

const dir = mkdtempSync(join(tmpdir(), 'siem-stages-'));
const prefix = uniquePrefix('bench-stages');
const redis = new Redis(REDIS_URL);
const stores =
  MODE === 'scale'
    ? createElasticsearchStores({ url: ELASTICSEARCH_URL, indexPrefix: prefix, logger })
    : createSqliteStores({
        path: join(dir, 'siem.sqlite'),
        logger,
        writerThread: !args.includes('--inline'),
      });
await stores.events.init();
await stores.incidents.init();
const normalise = createNormaliser({
  agencies: AgencyDirectory.fromFile('fixtures/agencies/hau-giang.yaml'),
  defaultTimezone: 'Asia/Ho_Chi_Minh',
});
const packs = [BUNDLED_PACK];
if (SIGMA > 0) packs.push(sigmaSamplePack(join(dir, 'sigma'), SIGMA));
const { ruleSet } = loadRuleSet({ packs });
const correlator = new Correlator(
  MODE === 'scale' ? new RedisStateStore({ redis, prefix }) : new MemoryStateStore(),
  {
    latenessMs: 300_000,
    maxHitsPerGroup: 10_000,
    logger,
  },
);
const incidents = new IncidentWriter(stores.incidents, { suppressionWindowMs: 86_400_000 }, logger);
const spent = { normalise: 0, match: 0, correlate: 0, index: 0, incidents: 0 };
const counts = { matches: 0, correlations: 0, changes: 0 };
const cpu = { normalise: 0, match: 0, correlate: 0, index: 0, incidents: 0 };
let lap = process.cpuUsage();
/** CPU ms (user + system) since the previous call. */
const cpuLap = () => {
  const delta = process.cpuUsage(lap);
  lap = process.cpuUsage();
  return (delta.user + delta.system) / 1000;
};
const base = Date.UTC(2026, 10, 26, 2, 0, 0);
function recordsOfBatch(b: number): RawRecord[] {
  const records: RawRecord[] = [];
  for (let i = b * BATCH; i < Math.min(EVENTS, (b + 1) * BATCH); i++) {
    records.push({
      text: line(i, base + i * 10),
      receivedAt: Date.now(),
      transport: 'tcp',
      peer: '10.93.2.1:514',
      listener: 'bench',
      seq: i,
    });
  }
  return records;
}

/** The worker's own handler on the in-process queue, `PIPELINED` batches in flight. */
async function runPipelined(): Promise<void> {
  const batches = Array.from({ length: Math.ceil(EVENTS / BATCH) }, (_, b) => ({
    id: `b${b}`,
    records: recordsOfBatch(b),
  }));
  const handler = createBatchProcessor({
    normalise,
    events: stores.events,
    ruleSet: () => ruleSet,
    correlator,
    incidents,
    detectOptions: { groupBy: ['source.ip'] },
    logger,
  });
  const queue = new InProcessQueue({ maxPendingBatches: batches.length, concurrency: PIPELINED, logger });
  let peak = { rss: 0, heapTotal: 0 };
  const sampler = setInterval(() => {
    const { rss, heapTotal } = process.memoryUsage();
    if (rss > peak.rss) peak = { rss, heapTotal };
  }, 200);
  const cpuStarted = process.cpuUsage();
  const started = performance.now();
  await queue.start(handler);
  for (const batch of batches) await queue.enqueue(batch);
  await queue.idle();
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpuStarted);
  const cpuSeconds = (used.user + used.system) / 1e6;
  const failed = (await queue.list(0)).total;
  console.log(
    `${MODE}, pipelined (${PIPELINED} batches in flight): ${EVENTS} events in ${seconds.toFixed(1)} s = ` +
      `${Math.round(EVENTS / seconds)} events/s (batches of ${BATCH}; ${ruleSet.rules.length} rules); ` +
      `CPU ${cpuSeconds.toFixed(1)} s = ${((cpuSeconds * 1e6) / EVENTS).toFixed(0)} µs/event` +
      `${failed > 0 ? `; ${failed} batches FAILED` : ''}`,
  );
  clearInterval(sampler);
  const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);
  console.log(`  peak RSS ${mb(peak.rss)} MB (main thread's V8 heap then ${mb(peak.heapTotal)} MB)`);
  await queue.close();
}

if (PIPELINED > 0) {
  await runPipelined();
  await cleanUp();
  process.exit(0);
}
const cpuStarted = process.cpuUsage();
const started = performance.now();
for (let b = 0; b * BATCH < EVENTS; b++) {
  const records = recordsOfBatch(b);
  cpuLap();
  let t = performance.now();
  const events = normalise(records);
  spent.normalise += performance.now() - t;
  cpu.normalise += cpuLap();
  t = performance.now();
  const matched = detect(events, ruleSet, `b${b}`, { groupBy: ['source.ip'] });
  spent.match += performance.now() - t;
  cpu.match += cpuLap();
  t = performance.now();
  const correlated = await correlator.correlate(ruleSet, matched, `b${b}`);
  spent.correlate += performance.now() - t;
  cpu.correlate += cpuLap();
  t = performance.now();
  await stores.events.index(events);
  spent.index += performance.now() - t;
  cpu.index += cpuLap();
  t = performance.now();
  // As correlator/pipeline.ts: rules and correlations that do not generate are stored as evidence only.
  const opening: Detection[] = [];
  const evidenceOnly: Detection[] = [];
  for (const { detection, generates } of matched) (generates ? opening : evidenceOnly).push(detection);
  for (const detection of correlated.detections)
    (correlated.silent.has(detection.id) ? evidenceOnly : opening).push(detection);
  const changes = await incidents.apply(opening, evidenceOnly);
  counts.matches += matched.length;
  counts.correlations += correlated.detections.length;
  counts.changes += changes.length;
  spent.incidents += performance.now() - t;
  cpu.incidents += cpuLap();
}
const total = (performance.now() - started) / 1000;
const cpuTotal = process.cpuUsage(cpuStarted);
const cpuSeconds = (cpuTotal.user + cpuTotal.system) / 1e6;
console.log(
  `${MODE}: ${EVENTS} events in ${total.toFixed(1)} s = ${Math.round(EVENTS / total)} events/s (batches of ${BATCH}; ` +
    `${ruleSet.rules.length} rules); CPU ${cpuSeconds.toFixed(1)} s = ${Math.round(EVENTS / cpuSeconds)} events per CPU-second`,
);
console.log(
  `  ${counts.matches} rule matches, ${counts.correlations} correlation detections, ${counts.changes} incident changes`,
);
for (const [stage, ms] of Object.entries(spent)) {
  const cpuMs = cpu[stage as keyof typeof cpu];
  console.log(
    `  ${stage.padEnd(10)} ${(ms / 1000).toFixed(2).padStart(7)} s  ${Math.round(EVENTS / (ms / 1000))
      .toString()
      .padStart(8)} events/s  ${((ms / 1000 / total) * 100).toFixed(0).padStart(3)}%   ` +
      `cpu ${(cpuMs / 1000).toFixed(2).padStart(6)} s = ${((cpuMs * 1000) / EVENTS).toFixed(1).padStart(6)} µs/event`,
  );
}
await cleanUp();

async function cleanUp(): Promise<void> {
  await stores.close();
  if (MODE === 'scale') await deleteIndices(prefix);
  const keys = await redis.keys(`${prefix}:*`);
  for (let i = 0; i < keys.length; i += 1000) await redis.del(...keys.slice(i, i + 1000));
  redis.disconnect();
  rmSync(dir, { recursive: true, force: true });
}
