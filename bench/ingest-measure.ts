/**
 * Timing helper for the ingest benchmarks. Throughput is per CPU second of this process
 * (`process.cpuUsage`, user + system), i.e. per core: on a shared, loaded machine wall time mostly
 * measures the neighbours. Contenders run in interleaved rounds (ours, theirs, ours, ...) and each keeps
 * its best round, so both sides get the same chances (the order is reversed every other round).
 * Wall-clock rates are printed beside it.
 */
export interface Contender<T> {
  name: string;
  items: T[];
  run: (item: T) => void;
}

export interface Measurement {
  name: string;
  /** Best round, items per CPU second. */
  perSecond: number;
  rounds: number[];
  /** Best round, items per wall-clock second. */
  wallPerSecond: number;
}

function round<T>(contender: Contender<T>, seconds: number): { cpu: number; wall: number } {
  const wallStart = process.hrtime.bigint();
  const cpuStart = process.cpuUsage();
  let done = 0;
  let cpuMs = 0;
  while (cpuMs < seconds * 1000) {
    for (const item of contender.items) contender.run(item);
    done += contender.items.length;
    const cpu = process.cpuUsage(cpuStart);
    cpuMs = (cpu.user + cpu.system) / 1000;
  }
  const wallMs = Number(process.hrtime.bigint() - wallStart) / 1e6;
  return { cpu: (done / cpuMs) * 1000, wall: (done / wallMs) * 1000 };
}

// biome-ignore lint/suspicious/noExplicitAny: contenders with different item types run side by side
export function compare(contenders: Contender<any>[], rounds = 7, seconds = 0.5): Measurement[] {
  for (const contender of contenders)
    for (let pass = 0; pass < 3; pass++) for (const item of contender.items) contender.run(item);
  const results: Measurement[] = contenders.map((contender) => ({
    name: contender.name,
    perSecond: 0,
    rounds: [],
    wallPerSecond: 0,
  }));
  for (let r = 0; r < rounds; r++) {
    // Every other round runs in reverse order: a contender should not always follow the same neighbour
    // (whose garbage it would collect) nor always come first.
    const order = contenders.map((_, i) => (r % 2 === 0 ? i : contenders.length - 1 - i));
    for (const i of order) {
      const { cpu, wall } = round(contenders[i]!, seconds);
      results[i]!.rounds.push(cpu);
      results[i]!.perSecond = Math.max(results[i]!.perSecond, cpu);
      results[i]!.wallPerSecond = Math.max(results[i]!.wallPerSecond, wall);
    }
  }
  return results;
}

export function report(results: Measurement[], unit = 'lines/s'): void {
  for (const result of results) {
    const median = [...result.rounds].sort((a, b) => a - b)[Math.floor(result.rounds.length / 2)] ?? 0;
    const n = (value: number) => Math.round(value).toLocaleString('en-US').padStart(10);
    console.log(
      `${result.name.padEnd(46)} ${n(result.perSecond)} ${unit} per CPU-second (median ${n(median)}; wall ${n(result.wallPerSecond)})`,
    );
  }
}
