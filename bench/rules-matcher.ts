/**
 * Matcher throughput, one core: events/s through `RuleSet.match` on a mixed stream (Windows events from
 * SigmaHQ's regression data in Winlogbeat's shape, real OpenSSH and Linux syslog lines from loghub through
 * the real normaliser, and the bundled pack's fixtures: web, firewall, sudo, Windows) with 100, 1,000 and
 * all loadable rules (SigmaHQ's corpus + the bundled pack), next to the cost of `JSON.parse` of the same
 * events (the floor for any JS pipeline). Needs ../shared/data.
 *
 *   npx tsx bench/rules-matcher.ts [--events 20000] [--no-prefilter] [--rules 100,1000]
 *
 * Under callgrind (`valgrind --tool=callgrind --instr-atstart=no node …/rules-matcher.js`, see
 * bench/callgrind.ts) it counts instructions per event instead of timing: four warm-up passes, one counted.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { normaliseAgentJson, parseConcatenatedJson } from '../conformance/support/evtx.js';
import { SHARED_DATA } from '../conformance/support/shared-data.js';
import { AgencyDirectory } from '../core/agencies.js';
import type { RawRecord, SecurityEvent } from '../core/model.js';
import { createNormaliser } from '../ingest/normalise.js';
import { loadFixtures } from '../rules/fixtures/fixtures.js';
import { BUNDLED_PACK, CompiledRuleSet, loadRuleSet, type SigmaRule } from '../rules/index.js';
import { instructions, underValgrind } from './callgrind.js';

const args = process.argv.slice(2);
const EVENTS = Number(args[args.indexOf('--events') + 1] ?? 20_000) || 20_000;
const PREFILTER = !args.includes('--no-prefilter');
/** `--rules 1000` (comma-separated) measures only those rule counts; default 100, 1,000 and all. */
const COUNTS = args.includes('--rules')
  ? String(args[args.indexOf('--rules') + 1])
      .split(',')
      .map(Number)
  : undefined;
const SHARED = SHARED_DATA;

function windowsEvents(dir: string, out: unknown[] = []): unknown[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) windowsEvents(path, out);
    else if (entry.name.endsWith('.json')) {
      out.push(...normaliseAgentJson(parseConcatenatedJson(readFileSync(path, 'utf8'))));
    }
  }
  return out;
}

function syslogEvents(): SecurityEvent[] {
  const normalise = createNormaliser({ agencies: new AgencyDirectory([]), defaultTimezone: 'UTC' });
  const lines = ['OpenSSH_1k.log', 'Linux_1k.log'].flatMap((f) =>
    readFileSync(join(SHARED, 'logs/loghub', f), 'utf8')
      .split('\n')
      .filter(Boolean),
  );
  const records: RawRecord[] = lines.map((text, seq) => ({
    text,
    receivedAt: Date.parse('2026-11-26T00:00:00Z'),
    transport: 'file',
    peer: '',
    listener: 'bench',
    seq,
  }));
  return normalise(records);
}

/** A deterministic shuffle (by hash), so runs compare. */
function shuffled<T>(items: T[], salt: string): T[] {
  const key = (i: number) => createHash('md5').update(`${salt}${i}`).digest().readUInt32BE(0);
  return items
    .map((item, i) => ({ item, k: key(i) }))
    .sort((a, b) => a.k - b.k)
    .map((x) => x.item);
}

const base = [
  ...windowsEvents(join(SHARED, 'sigma/regression')),
  ...syslogEvents(),
  ...loadFixtures().flatMap((c) => c.events),
];
const stream = shuffled(
  Array.from({ length: EVENTS }, (_, i) => base[i % base.length]!),
  'stream',
) as SecurityEvent[];
const lines = stream.map((e) => JSON.stringify(e));

const corpus = loadRuleSet({ packs: [join(SHARED, 'sigma/rules'), BUNDLED_PACK] });
const detections = shuffled(
  corpus.rules.filter((r) => r.kind === 'detection'),
  'rules',
);

/**
 * Best of three timed passes after a warm-up: wall-clock ms, and the CPU ms this process used in that pass
 * (`process.cpuUsage`), which neighbours on a shared machine inflate far less than the wall clock.
 */
function timeIt(run: () => void): { ms: number; cpuMs: number } {
  run(); // warm up
  let best = Number.POSITIVE_INFINITY;
  let bestCpu = Number.POSITIVE_INFINITY;
  for (let round = 0; round < 3; round++) {
    const cpu = process.cpuUsage();
    const started = process.hrtime.bigint();
    run();
    best = Math.min(best, Number(process.hrtime.bigint() - started) / 1e6);
    const used = process.cpuUsage(cpu);
    bestCpu = Math.min(bestCpu, (used.user + used.system) / 1000);
  }
  return { ms: best, cpuMs: bestCpu };
}

/**
 * Instructions per event of one pass (under callgrind only), after warm-up passes: under valgrind the
 * optimising compiler's background thread runs slowly, so one pass is not enough to count optimised code.
 */
async function countIt(run: () => void): Promise<number> {
  for (let pass = 0; pass < 4; pass++) run();
  return (await instructions(run)) / EVENTS;
}

const perSecond = (ms: number) => Math.round((EVENTS / ms) * 1000);
const microsPerEvent = (ms: number) => ((ms / EVENTS) * 1000).toFixed(1);
const perEvent = (n: number) => `${Math.round(n).toLocaleString('en')} instructions/event`;
console.log(
  `stream: ${EVENTS} events (${base.length} distinct: Windows regression, loghub sshd/linux, pack fixtures), ` +
    `avg ${Math.round(lines.reduce((n, l) => n + l.length, 0) / lines.length)} bytes of JSON`,
);
const parse = () => {
  for (const line of lines) JSON.parse(line);
};
if (underValgrind) console.log(`JSON.parse floor: ${perEvent(await countIt(parse))}`);
else {
  const { ms: parseMs, cpuMs: parseCpuMs } = timeIt(parse);
  console.log(
    `JSON.parse floor: ${perSecond(parseMs).toLocaleString('en')} events/s (${parseMs.toFixed(0)} ms; ` +
      `CPU ${microsPerEvent(parseCpuMs)} µs/event)`,
  );
}
console.log(`prefilter: ${PREFILTER ? 'on' : 'off'}`);

const results: { rules: number; cost: number; matches: number }[] = [];
for (const count of COUNTS ?? [100, 1000, detections.length]) {
  const ruleSet = new CompiledRuleSet(corpus.pipeline, { prefilter: PREFILTER });
  for (const rule of detections.slice(0, count) as Extract<SigmaRule, { kind: 'detection' }>[])
    ruleSet.add(rule);
  let matches = 0;
  const run = () => {
    matches = 0;
    for (const event of stream) matches += ruleSet.match(event).length;
  };
  const rules = String(ruleSet.rules.length).padStart(5);
  if (underValgrind) {
    const cost = await countIt(run);
    results.push({ rules: ruleSet.rules.length, cost, matches });
    console.log(`${rules} rules: ${perEvent(cost)} (${matches} matches)`);
    continue;
  }
  const { ms, cpuMs } = timeIt(run);
  results.push({ rules: ruleSet.rules.length, cost: ms, matches });
  console.log(
    `${rules} rules: ${perSecond(ms).toLocaleString('en').padStart(9)} events/s ` +
      `(${ms.toFixed(0)} ms, ${microsPerEvent(ms)} µs/event; CPU ${microsPerEvent(cpuMs)} µs/event, ` +
      `${perSecond(cpuMs).toLocaleString('en')} events per CPU-second; ${matches} matches)`,
  );
}
const [hundred, thousand] = results;
if (hundred && thousand && hundred.rules === 100 && thousand.rules === 1000) {
  console.log(
    `10× the rules (100 → 1,000) cost ${(thousand.cost / hundred.cost).toFixed(2)}× the ${underValgrind ? 'instructions' : 'time'}`,
  );
}
