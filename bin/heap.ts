/**
 * The V8 heap setting of the long-running processes (`serve`, `worker`).
 *
 * After each full collection V8 lets the old generation grow to a multiple of what survived before it
 * collects again; on a machine with more than 16 GB that multiple goes up to 4. The worker stages allocate
 * ~25 KB an event, and every batch in flight survives a scavenge or two and is promoted, so at full rate
 * the heap filled up to 3–4× its live objects (~130 MB live, ~490 MB heap: most of the 700–830 MB RSS of
 * `serve` at full rate). A fixed factor of 1.5 keeps it near 1.5× what is live: full collections come more
 * often, each as cheap as before, since their cost is the live objects and not the garbage (measured in
 * docs/benchmarks.md, issue 6, "Embedded mode: memory at full rate": ~1% more GC pauses, CPU per event
 * within the noise, peak RSS −40%). Unlike a heap cap (`--max-old-space-size`) it never makes the process run out of heap when the
 * live set grows (correlation windows at a higher rate, a rule reload's second rule set).
 */
import { setFlagsFromString } from 'node:v8';

export const HEAP_GROWING_PERCENT = 50;

/**
 * Sets the factor unless node was started with one (`node --heap-growing-percent=N bin/siem-lite.js …`:
 * the operator's choice wins). V8 reads the flag at each collection, so setting it at start-up applies.
 */
export function boundHeapGrowth(execArgv: readonly string[] = process.execArgv): boolean {
  if (execArgv.some((arg) => /^--heap[-_]growing[-_]percent\b/.test(arg))) return false;
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  return true;
}
