/**
 * How the embedded stores reach their writer (writer.ts): inline, on the caller's connection, or on a
 * thread of its own (`writerThread: true`, what `siem-lite serve` uses), so that SQLite's work — most of
 * an event's cost in embedded mode — runs on the second core while the main thread parses, matches and
 * correlates the next batch. Both answer the same promises; callers cannot tell them apart.
 *
 * With a thread, reads stay on the main connection: a write's promise resolves after its transaction
 * committed, so a read made after it sees it (WAL).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Database } from 'better-sqlite3';
import type { Logger } from '../../core/logger.js';
import { StoreUnavailableError } from '../errors.js';
import { SqliteWriter, type WriterOperations } from './writer.js';
import type { WriterReply, WriterRequest } from './writer-thread.js';

/** The writer's operations, answered asynchronously. */
export type WriterClient = {
  [K in keyof WriterOperations]: (
    ...args: Parameters<WriterOperations[K]>
  ) => Promise<ReturnType<WriterOperations[K]>>;
} & { close(): Promise<void> };

/** Runs the writes on the caller's connection, synchronously. */
export function inlineWriter(db: Database): WriterClient {
  let writer: SqliteWriter | undefined;
  // Statements are prepared on first use: the schema may be created after the client.
  const get = () => {
    writer ??= new SqliteWriter(db);
    return writer;
  };
  return {
    writeEvents: async (batch) => get().writeEvents(batch),
    writeDetections: async (rows) => get().writeDetections(rows),
    writeIncidents: async (writes) => get().writeIncidents(writes),
    deleteEventsBefore: async (cutoff, limit) => get().deleteEventsBefore(cutoff, limit),
    async close() {},
  };
}

/**
 * The thread's module: writer-thread.js when built. From source, a worker thread does not inherit the
 * TypeScript loader the process runs under (tsx, vitest), so a two-line bootstrap registers tsx in the
 * thread first.
 */
function startWorker(workerData: unknown): Worker {
  const fromSource = import.meta.url.endsWith('.ts');
  if (!fromSource) return new Worker(new URL('./writer-thread.js', import.meta.url), { workerData });
  const tsx = tsxRegisterUrl();
  const entry = new URL('./writer-thread.ts', import.meta.url).href;
  const bootstrap = `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(bootstrap, { eval: true, workerData });
}

/** tsx's ESM `register` API (its `import` export: the CommonJS one cannot be imported from ESM). */
function tsxRegisterUrl(): string {
  const manifest = createRequire(import.meta.url).resolve('tsx/package.json');
  const exported = (
    JSON.parse(readFileSync(manifest, 'utf8')) as {
      exports: Record<string, { import: { default: string } }>;
    }
  ).exports['./esm/api']!.import.default;
  return pathToFileURL(join(dirname(manifest), exported)).href;
}

/**
 * Runs the writes on a worker thread with its own connection. Requests are answered in order; a thread that
 * dies fails its pending requests with StoreUnavailableError (the queue retries the batch) and is started
 * again by the next request.
 */
export function threadWriter(path: string, logger?: Logger): WriterClient {
  let worker: Worker | undefined;
  let nextId = 1;
  let closing = false;
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();

  const start = (): Worker => {
    const started = startWorker({ path });
    started.unref();
    started.on('message', (reply: WriterReply) => {
      const waiter = pending.get(reply.id);
      if (!waiter) return;
      pending.delete(reply.id);
      if (pending.size === 0) started.unref();
      if (reply.ok) waiter.resolve(reply.result);
      else waiter.reject(Object.assign(new Error(reply.error.message), { code: reply.error.code }));
    });
    const stopped = (reason: string) => {
      if (worker === started) worker = undefined;
      if (pending.size === 0) return;
      if (!closing) logger?.error({ reason }, 'sqlite writer thread stopped');
      const error = new StoreUnavailableError(`sqlite writer thread stopped: ${reason}`);
      for (const waiter of pending.values()) waiter.reject(error);
      pending.clear();
    };
    started.on('error', (error) => stopped(error.message));
    started.on('exit', (code) => stopped(`exit code ${code}`));
    return started;
  };

  const call = (op: WriterRequest['op'], args: unknown[]): Promise<unknown> => {
    if (closing) return Promise.reject(new Error('sqlite store is closed'));
    worker ??= start();
    const id = nextId++;
    const request: WriterRequest = { id, op, args };
    const answered = new Promise((resolve, reject) => pending.set(id, { resolve, reject }));
    if (pending.size === 1) worker.ref();
    worker.postMessage(request);
    return answered;
  };

  return {
    writeEvents: (batch) => call('writeEvents', [batch]) as ReturnType<WriterClient['writeEvents']>,
    writeDetections: (rows) => call('writeDetections', [rows]) as Promise<void>,
    writeIncidents: (writes) =>
      call('writeIncidents', [writes]) as ReturnType<WriterClient['writeIncidents']>,
    deleteEventsBefore: (cutoff, limit) => call('deleteEventsBefore', [cutoff, limit]) as Promise<number>,
    async close() {
      if (closing) return;
      const running = worker;
      if (!running) {
        closing = true;
        return;
      }
      // Answered after every request before it: the queue of writes drains, then the connection closes.
      const closed = call('close', []);
      closing = true;
      const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
      await closed;
      await exited;
    },
  };
}
