import { AgencyDirectory, UNKNOWN_AGENCY } from '../core/agencies.js';
import type { Config, ListenerConfig } from '../core/config.js';
import { parseDuration } from '../core/duration.js';
import type { Logger } from '../core/logger.js';
import type { RawRecord, Transport } from '../core/model.js';
import type { RecordQueue } from '../core/ports.js';
import { IngestAccounting } from './accounting.js';
import { RecordBatcher } from './batcher.js';
import type { MessageSink, RunningListener } from './listeners/listener.js';
import { startTcpListener } from './listeners/tcp.js';
import { startTlsListener } from './listeners/tls.js';
import { startUdpListener } from './listeners/udp.js';
import { watchUdpKernelDrops } from './listeners/udp-kernel-drops.js';
import { peerAddress } from './normalise.js';
import { nextRecordSeq } from './sequence.js';

export interface IngestOptions {
  config: Config;
  queue: RecordQueue;
  logger: Logger;
  /** Agencies for attribution at the edge; read from `config.agencies_file` when absent. */
  agencies?: AgencyDirectory;
  /** Counters; the module-level registry's by default (`ingestMetricsRegistry`). */
  accounting?: IngestAccounting;
}

export interface IngestHandle {
  addresses: { id: string; transport: string; address: string; port: number }[];
  /** Stops the listeners, flushes the pending batch and waits until it is queued. */
  close(): Promise<void>;
}

/** How often a paused producer checks whether the queue has room again. */
const RESUME_POLL_MS = 20;

/**
 * The ingest stage as a service: starts every configured listener, turns each framed message into a
 * RawRecord (sequence, receive time, agency attributed at the edge), batches records and enqueues them.
 * When the queue is saturated, TCP connections pause and UDP datagrams are dropped and counted.
 */
export async function startIngest(options: IngestOptions): Promise<IngestHandle> {
  const { config, queue, logger } = options;
  const agencies = options.agencies ?? AgencyDirectory.fromFile(config.agencies_file);
  const accounting = options.accounting ?? new IngestAccounting();
  const maxWaitMs = parseDuration(config.ingest.batch_max_wait) ?? 200;

  const batcher = new RecordBatcher({
    queue,
    maxRecords: config.ingest.batch_max_records,
    maxWaitMs,
    logger,
    onQueued: (batch) => countBatch(batch.records, (l, a, n) => accounting.queued(l, a, n)),
    onLost: (batch) =>
      countBatch(batch.records, (l, a, n) => accounting.dropped(l, a, 'queue_unavailable', n)),
  });

  const agencyByPeer = new Map<string, string | undefined>();
  function agencyAt(peer: string, listener: ListenerConfig): string | undefined {
    if (listener.agency) return listener.agency;
    const address = peerAddress(peer);
    if (agencyByPeer.has(address)) return agencyByPeer.get(address);
    const id = agencies.byAddress(address)?.id;
    if (agencyByPeer.size >= 10_000) agencyByPeer.clear();
    agencyByPeer.set(address, id);
    return id;
  }

  const waiting: (() => void)[] = [];
  let poll: NodeJS.Timeout | undefined;
  const sink: MessageSink = {
    accept(text, peer, listener, flags, agency) {
      const record: RawRecord = {
        text,
        receivedAt: Date.now(),
        transport: listener.transport as Transport,
        peer,
        listener: listener.id,
        seq: nextRecordSeq(),
      };
      const attributed = agency ?? agencyAt(peer, listener);
      if (attributed !== undefined) record.agency = attributed;
      if (flags) record.flags = flags;
      if (listener.parser !== undefined) record.parser = listener.parser;
      accounting.received(listener.id, attributed ?? UNKNOWN_AGENCY, flags?.includes('truncated') === true);
      batcher.add(record);
    },
    reject(listener, peer, reason, count = 1) {
      const agency = agencyAt(peer, listener) ?? UNKNOWN_AGENCY;
      if (reason === 'backpressure') accounting.dropped(listener.id, agency, reason, count);
      else accounting.rejected(listener.id, agency, reason, count);
    },
    closed(listener, reason) {
      accounting.connectionClosed(listener.id, reason);
    },
    saturated: () => batcher.saturated(),
    whenClear(resume) {
      waiting.push(resume);
      if (!poll) {
        poll = setInterval(() => {
          if (batcher.saturated()) return;
          clearInterval(poll);
          poll = undefined;
          for (const callback of waiting.splice(0)) callback();
        }, RESUME_POLL_MS);
      }
    },
  };

  const listeners: RunningListener[] = [];
  const unwatch: (() => void)[] = [];
  try {
    for (const listener of config.ingest.listeners) {
      const listenerOptions = { listener, maxMessageBytes: config.ingest.max_message_bytes, sink, logger };
      if (listener.transport === 'udp') {
        const running = await startUdpListener(listenerOptions);
        listeners.push(running);
        unwatch.push(watchUdpKernelDrops(accounting.counters.registry, running.id, running.port));
      } else if (listener.transport === 'tcp') listeners.push(await startTcpListener(listenerOptions));
      else listeners.push(await startTlsListener({ ...listenerOptions, agencies }));
    }
  } catch (error) {
    await Promise.all(listeners.map((running) => running.close()));
    throw error;
  }

  return {
    addresses: listeners.map(({ id, transport, address, port }) => ({ id, transport, address, port })),
    async close() {
      for (const stop of unwatch) stop();
      await Promise.all(listeners.map((running) => running.close()));
      if (poll) clearInterval(poll);
      poll = undefined;
      for (const callback of waiting.splice(0)) callback();
      await batcher.close();
    },
  };
}

/** Calls `count` once per (listener, agency) with the number of records of that pair in `records`. */
function countBatch(
  records: RawRecord[],
  count: (listener: string, agency: string, n: number) => void,
): void {
  let listener = '';
  let agency = '';
  let n = 0;
  for (const record of records) {
    const recordAgency = record.agency ?? UNKNOWN_AGENCY;
    if (record.listener !== listener || recordAgency !== agency) {
      if (n > 0) count(listener, agency, n);
      listener = record.listener;
      agency = recordAgency;
      n = 0;
    }
    n++;
  }
  if (n > 0) count(listener, agency, n);
}
