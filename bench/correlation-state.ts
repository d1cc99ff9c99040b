/**
 * Correlation windows: hits/s through the real correlator (the bundled pack's SSH correlations: brute
 * force, spraying, success after brute force) with state in memory and in Redis, and the memory each active
 * group costs (the stored record in memory; `MEMORY USAGE` per key in Redis, i.e. with Redis' own overhead).
 *
 *   npx tsx bench/correlation-state.ts [--groups 2000] [--hits 40000] [--batch 500]
 *   npx tsx bench/correlation-state.ts --steady [--rate 8000] [--minutes 11] [--every 1] [--batch 500]
 *
 * The stream: `--hits` sshd failures spread over `--groups` source addresses (a few users each), one
 * second apart per address, in batches as the queue delivers them; then every group is left with its
 * window open (below the thresholds) and measured.
 *
 * `--steady`: Redis only, the steady state of a long e2e run without waiting for it. e2e's firewall
 * denials (bench/e2e-denials.ts) at `--rate` lines a second of event time, in batches of `--batch` lines,
 * for `--minutes` of event time, as fast as the correlator takes them: the windows (5 and 1 minutes, plus
 * 5 of lateness) fill as they do after 10 wall minutes at that rate. Every `--every` minutes of event time
 * it prints the correlate stage's CPU a denial (this process) and Redis' (its /proc stat: run it against a
 * Redis of its own, `REDIS_URL`, for a figure that is ours alone), so empty and full windows compare.
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { Redis } from 'ioredis';
import { createLogger } from '../core/logger.js';
import type { SecurityEvent } from '../core/model.js';
import { Correlator, type RuleMatchOnEvent } from '../correlator/correlation/correlate.js';
import { MemoryStateStore } from '../correlator/correlation/memory-state-store.js';
import { RedisStateStore } from '../correlator/correlation/redis-state-store.js';
import type { CorrelationStateStore } from '../correlator/correlation/state-store.js';
import { detect } from '../correlator/detect.js';
import { BUNDLED_PACK, loadRuleSet } from '../rules/index.js';
import { denialOfLine } from './e2e-denials.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? Number(args[at + 1]) : fallback;
};
const GROUPS = option('groups', 2000);
const HITS = option('hits', 40_000);
const BATCH = option('batch', 500);
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const logger = createLogger({ level: 'silent' });

const { ruleSet } = loadRuleSet({ packs: [BUNDLED_PACK] });
const BASE = Date.UTC(2026, 10, 26, 2, 0, 0);

function event(i: number): SecurityEvent {
  const group = i % GROUPS;
  const n = Math.floor(i / GROUPS);
  return {
    '@timestamp': new Date(BASE + n * 1000 + (group % 1000)).toISOString(),
    event: {
      id: `bench-${i}`,
      ingested: '',
      original: '',
      category: ['authentication'],
      type: ['start'],
      action: 'ssh_login',
      outcome: 'failure',
    },
    process: { name: 'sshd' },
    source: { ip: `10.${(group >> 16) & 255}.${(group >> 8) & 255}.${group & 255}` },
    user: { name: `user${n % 3}` },
    agency: { id: 'so-tttt' },
  } as SecurityEvent;
}

async function measure(name: string, store: CorrelationStateStore) {
  const correlator = new Correlator(store, { latenessMs: 5 * 60_000, maxHitsPerGroup: 10_000, logger });
  const events = Array.from({ length: HITS }, (_, i) => event(i));
  const batches: SecurityEvent[][] = [];
  for (let i = 0; i < events.length; i += BATCH) batches.push(events.slice(i, i + BATCH));
  const matched = batches.map((batch, b) => detect(batch, ruleSet, `b${b}`, { groupBy: ['source.ip'] }));
  const hits = matched.reduce((sum, m) => sum + m.length, 0);
  const started = performance.now();
  let fired = 0;
  for (const [b, batch] of matched.entries())
    fired += (await correlator.correlate(ruleSet, batch, `b${b}`)).detections.length;
  const seconds = (performance.now() - started) / 1000;
  const usage = await store.usage();
  console.log(
    `${name.padEnd(7)} ${hits} rule hits in ${seconds.toFixed(2)} s: ${Math.round(hits / seconds)} hits/s, ${fired} correlation firings; ` +
      `${usage.groups} active groups, ${usage.bytes} bytes: ${Math.round(usage.bytes / Math.max(1, usage.groups))} bytes/group`,
  );
}

/** User + system CPU seconds a process has used (/proc/<pid>/stat, clock ticks of 1/100 s). */
function cpuSecondsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function steady(redis: Redis, prefix: string) {
  const rate = option('rate', 8000);
  const minutes = option('minutes', 11);
  const every = option('every', 1);
  const redisPid = Number(/process_id:(\d+)/.exec(await redis.info('server'))?.[1]);
  const store = new RedisStateStore({ redis, prefix });
  const correlator = new Correlator(store, { latenessMs: 5 * 60_000, maxHitsPerGroup: 10_000, logger });
  const lines = Math.round(rate * minutes * 60);
  const lineTime = (line: number) => BASE + Math.floor((line * 1000) / rate);
  console.log(
    `steady: e2e's denials at ${rate} lines/s of event time, batches of ${BATCH} lines, ${minutes} min; ` +
      `Redis pid ${redisPid}; load ${loadavg()[0]!.toFixed(1)}`,
  );
  let line = 0;
  let hits = 0;
  let cpu = 0;
  let fired = 0;
  let redisCpu = cpuSecondsOf(redisPid);
  let nextReport = BASE + every * 60_000;
  for (let batch = 0; line < lines; batch++) {
    const matches: RuleMatchOnEvent[] = [];
    for (let n = 0; n < BATCH && line < lines; n++, line++) {
      const match = denialOfLine(line, lineTime(line));
      if (match) matches.push(match);
    }
    const before = process.cpuUsage();
    fired += (await correlator.correlate(ruleSet, matches, `b${batch}`)).detections.length;
    const used = process.cpuUsage(before);
    cpu += used.user + used.system;
    hits += matches.length;
    if (lineTime(line) < nextReport && line < lines) continue;
    nextReport += every * 60_000;
    const redisNow = cpuSecondsOf(redisPid);
    console.log(
      `${((lineTime(line) - BASE) / 60_000).toFixed(1).padStart(5)} min: ${hits} denials, ` +
        `CPU a denial: correlate ${(cpu / hits).toFixed(1)} us, Redis ${(((redisNow - redisCpu) * 1e6) / hits).toFixed(1)} us; ` +
        `${fired} firings; load ${loadavg()[0]!.toFixed(1)}`,
    );
    redisCpu = redisNow;
    cpu = 0;
    hits = 0;
  }
  // The records' own size (what a read transfers) and what Redis holds for each (`MEMORY USAGE`: with its
  // allocation's slack and the key), from a sample.
  const [, keys] = await redis.scan('0', 'MATCH', `${store.keyPrefix}*`, 'COUNT', 2000);
  const sizes = await Promise.all(keys.map((key) => redis.strlen(key)));
  const held = await Promise.all(keys.map(async (key) => Number(await redis.memory('USAGE', key))));
  const mean = (values: number[]) =>
    Math.round(values.reduce((sum, value) => sum + value, 0) / Math.max(1, values.length));
  console.log(
    `records: ${mean(sizes)} bytes each, ${mean(held)} bytes held a group in Redis (${sizes.length} sampled)`,
  );
}

const redis = new Redis(REDIS_URL);
const prefix = `bench-corr-${process.pid}`;
try {
  if (args.includes('--steady')) await steady(redis, prefix);
  else {
    await measure('memory', new MemoryStateStore());
    await measure('redis', new RedisStateStore({ redis, prefix }));
  }
} finally {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 5000);
    cursor = next;
    if (keys.length > 0) await redis.unlink(...keys);
  } while (cursor !== '0');
  redis.disconnect();
}
