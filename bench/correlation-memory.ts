/**
 * Correlation windows at e2e's full rate, in-process: the memory the embedded state store holds and the
 * correlate stage's CPU per line, without the rest of the pipeline (so the figures hold on a loaded machine).
 *
 * The stream is bench/e2e.ts's firewall denials (70% of its lines are firewall lines, a third of those
 * `[UFW BLOCK]`, from source 198.18.<i % 250>.<(i >> 8) % 250>, destination port from five), each a hit of
 * `firewall_denied_connection`, which feeds the bundled pack's `firewall_deny_burst` (event_count, 5 min)
 * and `firewall_port_scan` (value_count of the port, 1 min). Event time and the store's clock advance at
 * `--rate` lines a second, in batches of `--batch` lines (as the queue delivers them), for `--minutes` of
 * event time; every `--every` minutes it prints the live heap after a full collection (run with
 * `--expose-gc`), the groups held, and the correlate stage's CPU per line since the previous print.
 *
 *   node --expose-gc --import tsx bench/correlation-memory.ts [--rate 9400] [--minutes 12] [--batch 500] [--every 1]
 *                        [--pack-after MS] [--sources N]
 */
import { createLogger } from '../core/logger.js';
import { Correlator, type RuleMatchOnEvent } from '../correlator/correlation/correlate.js';
import { MemoryStateStore } from '../correlator/correlation/memory-state-store.js';
import { BUNDLED_PACK, loadRuleSet } from '../rules/index.js';
import { denialOfLine } from './e2e-denials.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? Number(args[at + 1]) : fallback;
};
const RATE = option('rate', 9400);
const MINUTES = option('minutes', 12);
const BATCH = option('batch', 500);
const EVERY = option('every', 1);
/** The store's packing delay (ms of its clock); its default without the option. */
const PACK_AFTER = option('pack-after', Number.NaN);
/** Source addresses: e2e's 62,500 by default; fewer makes a flood in which groups fire and retain firings. */
const SOURCES = option('sources', 0);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');

const { ruleSet } = loadRuleSet({ packs: [BUNDLED_PACK] });
const BASE = Date.UTC(2026, 10, 26, 2, 0, 0);
let clock = BASE;
const store = Number.isNaN(PACK_AFTER)
  ? new MemoryStateStore(() => clock)
  : new MemoryStateStore(() => clock, PACK_AFTER);
const correlator = new Correlator(store, {
  latenessMs: 5 * 60_000,
  maxHitsPerGroup: 10_000,
  logger: createLogger({ level: 'silent' }),
});

const total = Math.round(RATE * MINUTES * 60);
let line = 0;
let cpu = 0;
let lines = 0;
let fired = 0;
let nextReport = BASE + EVERY * 60_000;
gc();
const heapAtStart = process.memoryUsage().heapUsed;
console.log(
  `rate ${RATE} lines/s, batches of ${BATCH}, ${MINUTES} min of event time; live heap at start ${(heapAtStart / 1048576).toFixed(1)} MB`,
);
for (let batch = 0; line < total; batch++) {
  const matches: RuleMatchOnEvent[] = [];
  for (let n = 0; n < BATCH && line < total; n++, line++) {
    const match = denialOfLine(line, BASE + Math.floor((line * 1000) / RATE), SOURCES);
    if (match) matches.push(match);
  }
  clock = BASE + Math.floor((line * 1000) / RATE);
  const before = process.cpuUsage();
  fired += (await correlator.correlate(ruleSet, matches, `b${batch}`)).detections.length;
  const used = process.cpuUsage(before);
  cpu += used.user + used.system;
  lines += BATCH;
  if (clock >= nextReport || line >= total) {
    nextReport += EVERY * 60_000;
    gc();
    const heap = process.memoryUsage().heapUsed - heapAtStart;
    const groups = (store as unknown as { groups: Map<string, unknown> }).groups.size;
    console.log(
      `${((clock - BASE) / 60_000).toFixed(1).padStart(5)} min: windows ${(heap / 1048576).toFixed(1)} MB live, ` +
        `${groups} groups, ${fired} firings; correlate ${(cpu / lines).toFixed(2)} us CPU a line`,
    );
    cpu = 0;
    lines = 0;
  }
}
