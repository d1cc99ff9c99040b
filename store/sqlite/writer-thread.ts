/**
 * The writer thread's entry (see writer-client.ts): its own connection to the store's file and the writes
 * of writer.ts, one message per call. Imports nothing heavy, so it starts in milliseconds.
 *
 * Group commit: the requests that queued up while the previous transaction ran are applied together in
 * one transaction, each in a savepoint of its own (a request that fails rolls back alone and gets its
 * error). Under load that makes transactions of thousands of events instead of one batch's hundreds —
 * SQLite's cost per event falls by a quarter — and when idle a request is applied at once.
 */
import { appendFileSync, readFileSync, statSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { openDatabase } from './connection.js';
import { type PackedEvents, unpackEvents } from './event-rows.js';
import { failureReply, type ThreadReply, type ThreadRequest } from './thread-channel.js';
import { SqliteWriter, type WriterOperations } from './writer.js';

type WriterRequest = ThreadRequest & { op: keyof WriterOperations | 'close' };

/** Events per group transaction at most: bounds the latency one commit adds to the requests in it. */
const MAX_GROUP_EVENTS = 20_000;

/**
 * A 16 MB page cache for the writes: they touch the tables' last pages and the indexes' leaves. 64 MB here
 * saved no CPU measurably (200k events inserted, two rounds each: 65–89 vs 70–79 µs an event, noise on a
 * loaded machine) and added up to 48 MB to the worker's RSS.
 */
const WRITER_CACHE_MB = 16;

const port = parentPort!;
const db = openDatabase((workerData as { path: string }).path, { cacheMb: WRITER_CACHE_MB });
const writer = new SqliteWriter(db, { addressStep: (workerData as { addressStep?: number }).addressStep });
const queue: WriterRequest[] = [];
const stats = process.env.SQLITE_WRITER_STATS ? writerStats(process.env.SQLITE_WRITER_STATS, 5) : undefined;

/**
 * Diagnostics (SQLITE_WRITER_STATS=<file>): every `seconds`, a line appended to the file: groups, events a
 * group, the thread's CPU and its share in each op and in begin + commit, the sizes of the file and its WAL.
 */
/** This thread's CPU time in ms (Linux: /proc/thread-self/schedstat, ns on the CPU). */
function threadCpuMs(): number {
  return Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]) / 1e6;
}

function writerStats(file: string, seconds: number) {
  const path = (workerData as { path: string }).path;
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
let scheduled = false;

/**
 * The writer's operations as the thread receives them: events packed (writer-client.ts), their rows made
 * here, off the calling thread (event-rows.ts).
 */
const operations: {
  [K in keyof WriterOperations]: (
    ...args: K extends 'writeEvents' ? [PackedEvents] : Parameters<WriterOperations[K]>
  ) => ReturnType<WriterOperations[K]>;
} = {
  writeEvents: (packed) => writer.writeEvents(unpackEvents(packed)),
  writeDetections: (rows) => writer.writeDetections(rows),
  writeIncidents: (writes) => writer.writeIncidents(writes),
  deleteEventsBefore: (cutoffTime, limit) => writer.deleteEventsBefore(cutoffTime, limit),
};

const applyOne = db.transaction((request: WriterRequest): unknown => {
  const operation = operations[request.op as keyof WriterOperations] as (...args: unknown[]) => unknown;
  return operation(...request.args);
});

function isClose(request: WriterRequest | undefined): boolean {
  return request?.op === 'close';
}

function eventsIn(request: WriterRequest): number {
  return request.op === 'writeEvents' ? (request.args[0] as PackedEvents).count : 1;
}

/** Applies the queued requests, as many as fit one group, in one transaction; replies after the commit. */
function flush(): void {
  scheduled = false;
  while (queue.length > 0) {
    if (isClose(queue[0])) {
      db.close();
      port.postMessage({ id: queue[0]!.id, ok: true, result: undefined } satisfies ThreadReply);
      port.close();
      queue.length = 0;
      return;
    }
    const group: WriterRequest[] = [];
    let events = 0;
    while (queue.length > 0 && !isClose(queue[0]) && (group.length === 0 || events < MAX_GROUP_EVENTS)) {
      const request = queue.shift()!;
      events += eventsIn(request);
      group.push(request);
    }
    let replies: ThreadReply[];
    const groupStart = stats ? threadCpuMs() : 0;
    let opsMs = 0;
    try {
      replies = db
        .transaction(() =>
          group.map((request): ThreadReply => {
            const opStart = stats ? threadCpuMs() : 0;
            try {
              return { id: request.id, ok: true, result: applyOne(request) };
            } catch (error) {
              return failureReply(request.id, error);
            } finally {
              if (stats) {
                const ms = threadCpuMs() - opStart;
                opsMs += ms;
                stats.op(request.op, ms);
              }
            }
          }),
        )
        .immediate();
    } catch (error) {
      // The group's commit itself failed (disk full, busy past the timeout): every request in it failed.
      replies = group.map((request) => failureReply(request.id, error));
    }
    if (stats) {
      const rows = group.reduce(
        (sum, request) => sum + (request.op === 'writeEvents' ? eventsIn(request) : 0),
        0,
      );
      stats.group(rows, group.length, threadCpuMs() - groupStart - opsMs);
    }
    for (const reply of replies) port.postMessage(reply);
  }
}

port.on('message', (request: WriterRequest) => {
  queue.push(request);
  if (!scheduled) {
    scheduled = true;
    setImmediate(flush);
  }
});
