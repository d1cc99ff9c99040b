/**
 * The worker's side of the source inventory: after normalisation, each record is counted in memory under
 * its (listener, agency, host) — one map lookup and a few adds, no I/O — and the totals go to the
 * SourceInventory every `flushMs` as one write per source. A crash loses at most that interval's counts
 * of the inventory (never an event: the events themselves are indexed by the pipeline).
 */
import type { Logger } from '../core/logger.js';
import type { RawRecord, SecurityEvent } from '../core/model.js';
import type { SourceInventory, SourceObservation } from '../core/ports.js';
import { peerAddress } from '../ingest/normalise.js';

interface Tally {
  agency: string;
  host: string;
  listener: string;
  parsers: Set<string>;
  events: number;
  parseFailures: number;
  first: number;
  last: number;
}

export class SourceTracker {
  #tallies = new Map<string, Tally>();
  readonly #timer: NodeJS.Timeout;
  #flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly inventory: SourceInventory,
    private readonly logger: Logger,
    flushMs = 2000,
  ) {
    this.#timer = setInterval(() => void this.flush(), flushMs).unref();
  }

  /** Counts a normalised batch (`events[i]` is `records[i]`'s event). */
  observe(records: RawRecord[], events: SecurityEvent[]): void {
    for (let i = 0; i < records.length; i++) {
      const record = records[i]!;
      const event = events[i];
      if (!event) continue;
      const hostname = (event.host as { hostname?: unknown } | undefined)?.hostname;
      const host =
        typeof hostname === 'string' && hostname !== ''
          ? hostname
          : record.peer
            ? peerAddress(record.peer)
            : 'unknown';
      const agency = event.agency.id;
      const key = `${record.listener}\u0000${agency}\u0000${host}`;
      let tally = this.#tallies.get(key);
      if (!tally) {
        tally = {
          agency,
          host,
          listener: record.listener,
          parsers: new Set(),
          events: 0,
          parseFailures: 0,
          first: record.receivedAt,
          last: record.receivedAt,
        };
        this.#tallies.set(key, tally);
      }
      tally.events++;
      if (event.tags?.includes('_parse_failure')) tally.parseFailures++;
      else if (event.event.dataset) tally.parsers.add(event.event.dataset);
      if (record.receivedAt < tally.first) tally.first = record.receivedAt;
      if (record.receivedAt > tally.last) tally.last = record.receivedAt;
    }
  }

  /** Writes what was counted since the last flush (serialised: one write in flight at a time). */
  flush(): Promise<void> {
    this.#flushing = this.#flushing.then(async () => {
      if (this.#tallies.size === 0) return;
      const tallies = this.#tallies;
      this.#tallies = new Map();
      const observations: SourceObservation[] = [...tallies.values()].map((tally) => ({
        agency: tally.agency,
        host: tally.host,
        listener: tally.listener,
        parsers: [...tally.parsers],
        events: tally.events,
        parseFailures: tally.parseFailures,
        firstSeen: new Date(tally.first).toISOString(),
        lastSeen: new Date(tally.last).toISOString(),
      }));
      try {
        await this.inventory.record(observations);
      } catch (error) {
        // The store is away: keep the counts for the next flush rather than lose them.
        for (const [key, tally] of tallies) {
          const newer = this.#tallies.get(key);
          if (!newer) this.#tallies.set(key, tally);
          else {
            newer.events += tally.events;
            newer.parseFailures += tally.parseFailures;
            for (const parser of tally.parsers) newer.parsers.add(parser);
            newer.first = Math.min(newer.first, tally.first);
            newer.last = Math.max(newer.last, tally.last);
          }
        }
        this.logger.warn({ err: (error as Error).message }, 'source inventory update failed; will retry');
      }
    });
    return this.#flushing;
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.flush();
  }
}
