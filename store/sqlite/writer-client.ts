/**
 * How the embedded stores reach their writer (writer.ts): inline, on the caller's connection, or on a
 * thread of its own (`writerThread: true`, what `siem-lite serve` uses), so that SQLite's work — most of
 * an event's cost in embedded mode — runs on the second core while the main thread parses, matches and
 * correlates the next batch. Both answer the same promises; callers cannot tell them apart.
 *
 * With a thread, reads stay on the main connection: a write's promise resolves after its transaction
 * committed, so a read made after it sees it (WAL).
 */
import type { Database } from 'better-sqlite3';
import type { Logger } from '../../core/logger.js';
import { threadChannel } from './thread-channel.js';
import { SqliteWriter, type WriterOperations } from './writer.js';

/** The writer's settings (writer.ts SqliteWriter). */
export interface WriterOptions {
  addressStep?: number;
}

/** The writer's operations, answered asynchronously. */
export type WriterClient = {
  [K in keyof WriterOperations]: (
    ...args: Parameters<WriterOperations[K]>
  ) => Promise<ReturnType<WriterOperations[K]>>;
} & { close(): Promise<void> };

/** Runs the writes on the caller's connection, synchronously. */
export function inlineWriter(db: Database, options: WriterOptions = {}): WriterClient {
  let writer: SqliteWriter | undefined;
  // Statements are prepared on first use: the schema may be created after the client.
  const get = () => {
    writer ??= new SqliteWriter(db, options);
    return writer;
  };
  return {
    writeEvents: async (batch) => get().writeEvents(batch),
    writeDetections: async (rows) => get().writeDetections(rows),
    writeIncidents: async (writes) => get().writeIncidents(writes),
    deleteEventsBefore: async (cutoff, limit) => get().deleteEventsBefore(cutoff, limit),
    recordSources: async (observations) => get().recordSources(observations),
    async close() {},
  };
}

/** Runs the writes on a worker thread with its own connection (thread-channel.ts: order, failures, restart). */
export function threadWriter(path: string, logger?: Logger, options: WriterOptions = {}): WriterClient {
  const channel = threadChannel('writer-thread', { path, ...options }, logger);
  return {
    writeEvents: (batch) => channel.call('writeEvents', [batch]) as ReturnType<WriterClient['writeEvents']>,
    writeDetections: (rows) => channel.call('writeDetections', [rows]) as Promise<void>,
    writeIncidents: (writes) =>
      channel.call('writeIncidents', [writes]) as ReturnType<WriterClient['writeIncidents']>,
    deleteEventsBefore: (cutoff, limit) =>
      channel.call('deleteEventsBefore', [cutoff, limit]) as Promise<number>,
    recordSources: (observations) => channel.call('recordSources', [observations]) as Promise<void>,
    close: () => channel.close(),
  };
}
