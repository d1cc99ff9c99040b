/**
 * The IOC tiles' reads on a thread of their own (reader-thread.ts), with its own connection to the store's
 * file. better-sqlite3 answers synchronously: on the API's connection a cold tiles snapshot (a day and a
 * month of incidents, an hour of events per agency) held the event loop for the sum of its queries, so
 * the incident list and the 304s arriving meanwhile waited behind it (docs/benchmarks.md, issue 7). Here
 * those reads run on the second core and the event loop only receives their small answers.
 *
 * WAL: the thread's connection sees every transaction committed before its read starts, as the API's does.
 */
import type { Logger } from '../../core/logger.js';
import type { EventStore, IncidentQueries, SourceInventory, TileReads } from '../../core/ports.js';
import { threadChannel } from './thread-channel.js';

export interface SqliteTileReader extends TileReads {
  events: Required<TileReads['events']>;
  inventory: Pick<SourceInventory, 'list'>;
  close(): Promise<void>;
}

type Answer<T> = T extends (...args: never[]) => Promise<infer R> ? Promise<R> : never;

export function threadTileReader(path: string, logger?: Logger): SqliteTileReader {
  const channel = threadChannel('reader-thread', { path }, logger);
  return {
    events: {
      topValues: (...args) =>
        channel.call('events.topValues', args) as Answer<NonNullable<EventStore['topValues']>>,
      lastSeenBy: (...args) =>
        channel.call('events.lastSeenBy', args) as Answer<NonNullable<EventStore['lastSeenBy']>>,
    },
    incidentQueries: {
      summarize: (...args) =>
        channel.call('incidents.summarize', args) as Answer<IncidentQueries['summarize']>,
    },
    inventory: {
      list: (...args) => channel.call('sources.list', args) as Answer<SourceInventory['list']>,
    },
    close: () => channel.close(),
  };
}
