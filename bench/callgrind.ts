/**
 * Instruction counts of a section of a benchmark, a measure the neighbours on a shared machine cannot
 * distort. Run the benchmark under callgrind with instrumentation off at start, from a scratch folder
 * (callgrind writes `callgrind.out.<pid>*` files there):
 *
 *   valgrind --tool=callgrind --instr-atstart=no node <benchmark>.js ...
 *
 * `instructions(run)` zeroes the counters, switches instrumentation on around `run`, dumps, and reads the
 * total back (minus the cost of switching, measured on an empty section). JIT-compiled code is counted like
 * any other; warm the code up (uninstrumented) before measuring it.
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** True when this process runs under valgrind. */
export const underValgrind = (process.env.LD_PRELOAD ?? '').includes('vgpreload');

function control(...args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    // Valgrind handles the command while the program runs code: keep the event loop ticking meanwhile.
    const tick = setInterval(() => {}, 1);
    execFile('callgrind_control', [...args, String(process.pid)], (error) => {
      clearInterval(tick);
      if (error) reject(error);
      else resolve();
    });
  });
}

let dumps = 0;
let overhead: number | undefined;

async function section(run: () => void): Promise<number> {
  await control('--zero');
  await control('--instr=on');
  run();
  await control('--instr=off');
  const label = `section-${++dumps}`;
  await control(`--dump=${label}`);
  const dir = process.env.CALLGRIND_DIR ?? '.';
  for (const name of readdirSync(dir)) {
    if (!name.startsWith(`callgrind.out.${process.pid}`)) continue;
    const text = readFileSync(`${dir}/${name}`, 'utf8');
    if (!text.includes(`Trigger: dump ${label}\n`)) continue;
    const totals = /^totals: (\d+)/m.exec(text);
    if (totals) return Number(totals[1]);
  }
  throw new Error(`callgrind dump ${label} not found in ${dir}`);
}

/** Instructions executed by `run` (0 when not under valgrind). */
export async function instructions(run: () => void): Promise<number> {
  if (!underValgrind) return 0;
  overhead ??= await section(() => {});
  return Math.max(0, (await section(run)) - overhead);
}
