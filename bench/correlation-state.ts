/**
 * Correlation windows: hits/s through the real correlator (the bundled pack's SSH correlations: brute
 * force, spraying, success after brute force) with state in memory and in Redis, and the memory each active
 * group costs (the stored record in memory; `MEMORY USAGE` per key in Redis, i.e. with Redis' own overhead).
 *
 *   npx tsx bench/correlation-state.ts [--groups 2000] [--hits 40000] [--batch 500]
 *
 * The stream: `--hits` sshd failures spread over `--groups` source addresses (a few users each), one
 * second apart per address, in batches as the queue delivers them; then every group is left with its
 * window open (below the thresholds) and measured.
 */
import { Redis } from 'ioredis';
import { createLogger } from '../core/logger.js';
import type { SecurityEvent } from '../core/model.js';
import { Correlator } from '../correlator/correlation/correlate.js';
import { MemoryStateStore } from '../correlator/correlation/memory-state-store.js';
import { RedisStateStore } from '../correlator/correlation/redis-state-store.js';
import type { CorrelationStateStore } from '../correlator/correlation/state-store.js';
import { detect } from '../correlator/detect.js';
import { BUNDLED_PACK, loadRuleSet } from '../rules/index.js';

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

await measure('memory', new MemoryStateStore());
const redis = new Redis(REDIS_URL);
const prefix = `bench-corr-${process.pid}`;
try {
  await measure('redis', new RedisStateStore({ redis, prefix }));
} finally {
  const keys = await redis.keys(`${prefix}:*`);
  for (let i = 0; i < keys.length; i += 1000) await redis.del(...keys.slice(i, i + 1000));
  redis.disconnect();
}
