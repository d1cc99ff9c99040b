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

/** Tallies by listener, then agency, then host. */
type Tallies = Map<string, Map<string, Map<string, Tally>>>;

export class SourceTracker {
  /**
   * Nested maps, so a lookup hashes strings the records and events already hold: a key built per record
   * (listener, agency and host concatenated) had to be flattened and hashed every time, most of observe's
   * cost.
   */
  #tallies: Tallies = new Map();
  #size = 0;
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
      let tally = this.#tallyOf(record.listener, agency, host);
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
        this.#add(tally);
      }
      tally.events++;
      if (event.tags?.includes('_parse_failure')) tally.parseFailures++;
      else if (event.event.dataset) tally.parsers.add(event.event.dataset);
      if (record.receivedAt < tally.first) tally.first = record.receivedAt;
      if (record.receivedAt > tally.last) tally.last = record.receivedAt;
    }
  }

  #tallyOf(listener: string, agency: string, host: string): Tally | undefined {
    return this.#tallies.get(listener)?.get(agency)?.get(host);
  }

  #add(tally: Tally): void {
    let byAgency = this.#tallies.get(tally.listener);
    if (!byAgency) {
      byAgency = new Map();
      this.#tallies.set(tally.listener, byAgency);
    }
    let byHost = byAgency.get(tally.agency);
    if (!byHost) {
      byHost = new Map();
      byAgency.set(tally.agency, byHost);
    }
    byHost.set(tally.host, tally);
    this.#size++;
  }

  /** Writes what was counted since the last flush (serialised: one write in flight at a time). */
  flush(): Promise<void> {
    this.#flushing = this.#flushing.then(async () => {
      if (this.#size === 0) return;
      const tallies: Tally[] = [];
      for (const byAgency of this.#tallies.values())
        for (const byHost of byAgency.values()) for (const tally of byHost.values()) tallies.push(tally);
      this.#tallies = new Map();
      this.#size = 0;
      const observations: SourceObservation[] = tallies.map((tally) => ({
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
        for (const tally of tallies) {
          const newer = this.#tallyOf(tally.listener, tally.agency, tally.host);
          if (!newer) this.#add(tally);
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
