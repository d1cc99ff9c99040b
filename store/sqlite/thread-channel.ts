/**
 * A worker thread with its own connection to the store's file, spoken to by message: the writer thread
 * (writer-thread.ts: the inserts) and the read thread (reader-thread.ts: the tiles' aggregations). Both
 * take `{ id, op, args }` and answer `{ id, ok, result | error }`; an op `close` closes the connection and
 * ends the thread after every request sent before it was answered.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../../core/logger.js';
import { StoreUnavailableError } from '../errors.js';

export interface ThreadRequest {
  id: number;
  op: string;
  args: unknown[];
}

export type ThreadReply =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; error: { message: string; code?: string } };

/** The reply for a request that threw: its message and code cross the thread; the rest cannot. */
export function failureReply(id: number, error: unknown): ThreadReply {
  const { message, code } = error as { message: string; code?: unknown };
  return {
    id,
    ok: false,
    error: { message: String(message), ...(typeof code === 'string' ? { code } : {}) },
  };
}

export interface ThreadChannel {
  call(op: string, args: unknown[]): Promise<unknown>;
  /** Answered after every request before it; later calls are refused. */
  close(): Promise<void>;
}

/**
 * Starts `module` (a sibling of this file: `writer-thread` or `reader-thread`) on first call. Requests are
 * answered in order; a thread that dies fails its pending requests with StoreUnavailableError (callers
 * retry) and is started again by the next request. The thread does not keep the process alive while idle.
 */
export function threadChannel(
  module: 'writer-thread' | 'reader-thread',
  workerData: { path: string; addressStep?: number },
  logger?: Logger,
): ThreadChannel {
  let worker: Worker | undefined;
  let nextId = 1;
  let closing = false;
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();

  const start = (): Worker => {
    const started = startWorker(module, workerData);
    started.unref();
    started.on('message', (reply: ThreadReply) => {
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
      if (!closing) logger?.error({ reason, thread: module }, 'sqlite thread stopped');
      const error = new StoreUnavailableError(`sqlite ${module} stopped: ${reason}`);
      for (const waiter of pending.values()) waiter.reject(error);
      pending.clear();
    };
    started.on('error', (error) => stopped(error.message));
    started.on('exit', (code) => stopped(`exit code ${code}`));
    return started;
  };

  const call = (op: string, args: unknown[]): Promise<unknown> => {
    if (closing) return Promise.reject(new Error('sqlite store is closed'));
    worker ??= start();
    const id = nextId++;
    const answered = new Promise((resolve, reject) => pending.set(id, { resolve, reject }));
    if (pending.size === 1) worker.ref();
    worker.postMessage({ id, op, args } satisfies ThreadRequest);
    return answered;
  };

  return {
    call,
    async close() {
      if (closing) return;
      const running = worker;
      if (!running) {
        closing = true;
        return;
      }
      const closed = call('close', []);
      closing = true;
      const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
      await closed;
      await exited;
    },
  };
}

/**
 * The threads' young generation (V8 splits it into two semi-spaces and a large-object space). By default a
 * thread's grows like the main thread's to 32 MB of semi-spaces, and the writer's did at full rate: 30 MB
 * of its 39 MB heap, for messages that live one transaction. 12 MB (4 MB semi-spaces) keeps them young.
 */
const THREAD_YOUNG_GENERATION_MB = 12;

/**
 * The thread's module: `<module>.js` when built. From source, a worker thread does not inherit the
 * TypeScript loader the process runs under (tsx, vitest), so a two-line bootstrap registers tsx in the
 * thread first.
 */
function startWorker(module: string, workerData: unknown): Worker {
  const fromSource = import.meta.url.endsWith('.ts');
  const options = { workerData, resourceLimits: { maxYoungGenerationSizeMb: THREAD_YOUNG_GENERATION_MB } };
  if (!fromSource) return new Worker(new URL(`./${module}.js`, import.meta.url), options);
  const tsx = tsxRegisterUrl();
  const entry = new URL(`./${module}.ts`, import.meta.url).href;
  const bootstrap = `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(bootstrap, { eval: true, ...options });
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
