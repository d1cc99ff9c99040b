/**
 * The writer thread's entry (see writer-client.ts): its own connection to the store's file and the writes
 * of writer.ts, one message per call. Imports nothing heavy, so it starts in milliseconds.
 *
 * Group commit: the requests that queued up while the previous transaction ran are applied together in
 * one transaction, each in a savepoint of its own (a request that fails rolls back alone and gets its
 * error). Under load that makes transactions of thousands of events instead of one batch's hundreds —
 * SQLite's cost per event falls by a quarter — and when idle a request is applied at once.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openDatabase } from './connection.js';
import { failureReply, type ThreadReply, type ThreadRequest } from './thread-channel.js';
import { type EventRows, SqliteWriter, type WriterOperations } from './writer.js';
import { threadCpuMs, writerStats } from './writer-stats.js';

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
const stats = process.env.SQLITE_WRITER_STATS
  ? writerStats(process.env.SQLITE_WRITER_STATS, 5, (workerData as { path: string }).path)
  : undefined;

let scheduled = false;

const applyOne = db.transaction((request: WriterRequest): unknown => {
  const operation = writer[request.op as keyof WriterOperations] as (...args: unknown[]) => unknown;
  return operation.apply(writer, request.args);
});

function isClose(request: WriterRequest | undefined): boolean {
  return request?.op === 'close';
}

function eventsIn(request: WriterRequest): number {
  return request.op === 'writeEvents' ? (request.args[0] as EventRows).docs.length : 1;
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
