/**
 * The writer thread's diagnostics (SQLITE_WRITER_STATS=<file>, read by writer-thread.ts): every `seconds`, a
 * line appended to the file: groups, events a group, the thread's CPU and its share in each op and in begin +
 * commit, the bytes it read and wrote an event, the sizes of the store's file and its WAL. Costs nothing
 * unless the variable is set.
 */
import { appendFileSync, readFileSync, statSync } from 'node:fs';

/** This thread's CPU time in ms (Linux: /proc/thread-self/schedstat, ns on the CPU). */
export function threadCpuMs(): number {
  return Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]) / 1e6;
}

/** The line's counters, appended to `file` every `seconds`; `path` is the store's file (its size and its WAL's). */
export function writerStats(file: string, seconds: number, path: string) {
  let window = {
    groups: 0,
    events: 0,
    requests: 0,
    maxEvents: 0,
    commitMs: 0,
    maxCommitMs: 0,
    slowCommits: 0,
  };
  let ops = new Map<string, { n: number; ms: number }>();
  const started = performance.now();
  let last = started;
  let lastCpu = threadCpuMs();
  const io = () => {
    const text = readFileSync('/proc/thread-self/io', 'utf8');
    const field = (name: string) => Number(new RegExp(`^${name}: (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
    return { read: field('rchar'), written: field('wchar') };
  };
  let lastIo = io();
  const size = (file: string) => {
    try {
      return (statSync(file).size / 1048576).toFixed(0);
    } catch {
      return '-';
    }
  };
  setInterval(() => {
    const now = performance.now();
    const span = now - last;
    last = now;
    const cpu = threadCpuMs() - lastCpu;
    lastCpu += cpu;
    const nowIo = io();
    const kbPerEvent = (bytes: number) => (bytes / 1024 / Math.max(1, window.events)).toFixed(1);
    const ioText = `read ${kbPerEvent(nowIo.read - lastIo.read)} KB/event, written ${kbPerEvent(nowIo.written - lastIo.written)} KB/event`;
    lastIo = nowIo;
    const perEvent = (ms: number) => `${((1000 * ms) / Math.max(1, window.events)).toFixed(1)} us`;
    const opText = [...ops].map(([op, o]) => `${op} ${o.n} ${perEvent(o.ms)}`).join(', ');
    appendFileSync(
      file,
      `[writer ${((now - started) / 1000).toFixed(0)}s] groups ${window.groups} events ${window.events} ` +
        `(${(window.events / Math.max(1, window.groups)).toFixed(0)}/group, max ${window.maxEvents}) requests ${window.requests}; ` +
        `CPU ${((100 * cpu) / span).toFixed(0)}% ${((1000 * cpu) / Math.max(1, window.events)).toFixed(1)} us/event, of which ` +
        `commit ${perEvent(window.commitMs)} (max ${window.maxCommitMs.toFixed(0)} ms, >50ms ${window.slowCommits}); ` +
        `${opText}; ${ioText}; db ${size(path)} MB wal ${size(`${path}-wal`)} MB\n`,
    );
    window = { groups: 0, events: 0, requests: 0, maxEvents: 0, commitMs: 0, maxCommitMs: 0, slowCommits: 0 };
    ops = new Map();
  }, seconds * 1000).unref();
  return {
    op(op: string, ms: number) {
      const o = ops.get(op) ?? { n: 0, ms: 0 };
      o.n++;
      o.ms += ms;
      ops.set(op, o);
    },
    group(events: number, requests: number, commitMs: number) {
      window.groups++;
      window.events += events;
      window.requests += requests;
      window.maxEvents = Math.max(window.maxEvents, events);
      window.commitMs += commitMs;
      window.maxCommitMs = Math.max(window.maxCommitMs, commitMs);
      if (commitMs > 50) window.slowCommits++;
    },
  };
}
