/**
 * The read thread's entry (see reader-client.ts): its own query-only connection to the store's file, and
 * the aggregations the IOC tiles ask for, one request at a time in the order they came.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openDatabase } from './connection.js';
import { SqliteEventStore } from './event-store.js';
import { SqliteIncidentQueries } from './incident-query-store.js';
import { SqliteSourceInventory } from './source-inventory.js';
import { registerEventSqlFunctions } from './sql-functions.js';
import { failureReply, type ThreadReply, type ThreadRequest } from './thread-channel.js';

/**
 * The tiles read index ranges (an hour of `(agency, ts)`, a day and a month of incidents) that the OS
 * caches anyway; 32 MB keeps a snapshot's pages between snapshots (the main connection's own 32 MB serve
 * the searches).
 */
const READER_CACHE_MB = 32;

const port = parentPort!;
const db = openDatabase((workerData as { path: string }).path, { cacheMb: READER_CACHE_MB });
// Reads only: a bug or a crafted request can never write through this connection.
db.pragma('query_only = ON');
registerEventSqlFunctions(db);
const events = new SqliteEventStore({ db });
const incidents = new SqliteIncidentQueries(db);
const sources = new SqliteSourceInventory(db);

/** What this thread answers (reader-client.ts sends these): nothing else can be called by name. */
const operations = new Map<string, (...args: never[]) => Promise<unknown>>([
  ['events.topValues', (...args: Parameters<SqliteEventStore['topValues']>) => events.topValues(...args)],
  ['events.lastSeenBy', (...args: Parameters<SqliteEventStore['lastSeenBy']>) => events.lastSeenBy(...args)],
  [
    'incidents.summarize',
    (...args: Parameters<SqliteIncidentQueries['summarize']>) => incidents.summarize(...args),
  ],
  ['sources.list', (...args: Parameters<SqliteSourceInventory['list']>) => sources.list(...args)],
]);

async function answer(request: ThreadRequest): Promise<ThreadReply> {
  const operation = operations.get(request.op);
  if (!operation) return failureReply(request.id, new Error(`unknown read: ${request.op}`));
  try {
    return { id: request.id, ok: true, result: await operation(...(request.args as never[])) };
  } catch (error) {
    return failureReply(request.id, error);
  }
}

// One at a time, in order: a close is answered after every read sent before it.
let turn = Promise.resolve();
port.on('message', (request: ThreadRequest) => {
  turn = turn.then(async () => {
    if (request.op === 'close') {
      db.close();
      port.postMessage({ id: request.id, ok: true, result: undefined } satisfies ThreadReply);
      port.close();
      return;
    }
    port.postMessage(await answer(request));
  });
});
