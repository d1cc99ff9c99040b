import { Counter, Registry } from 'prom-client';

/**
 * Nothing lost silently: every record the ingest stage sees is counted per listener and agency as it moves
 * on (received → queued) or stops (rejected/dropped, with a reason). The worker side counts parsed and
 * parse failures. Exposed as Prometheus counters; `ingestMetricsRegistry` is what `/metrics` serves.
 */
export const ingestMetricsRegistry = new Registry();

type Labels = 'listener' | 'agency';

export interface IngestCounters {
  registry: Registry;
  received: Counter<Labels>;
  truncated: Counter<Labels>;
  queued: Counter<Labels>;
  rejected: Counter<Labels | 'reason'>;
  dropped: Counter<Labels | 'reason'>;
  parsed: Counter<Labels | 'dataset'>;
  parseFailures: Counter<Labels>;
  connectionsClosed: Counter<'listener' | 'reason'>;
}

const countersByRegistry = new WeakMap<Registry, IngestCounters>();

/** The ingest counters registered in `registry` (created once per registry). */
export function ingestCounters(registry: Registry = ingestMetricsRegistry): IngestCounters {
  let counters = countersByRegistry.get(registry);
  if (!counters) {
    const make = <L extends string>(name: string, help: string, labelNames: L[]) =>
      new Counter<L>({ name: `siem_ingest_${name}_total`, help, labelNames, registers: [registry] });
    const received = new Counter<Labels>({
      name: 'siem_ingest_received_total',
      help: 'Messages received by a listener',
      labelNames: ['listener', 'agency'],
      registers: [registry],
      // Messages are tallied in plain numbers and added here, when the counter is read (scrape, get()).
      collect: () => reportReceived(counters!),
    });
    counters = {
      registry,
      received,
      truncated: make('truncated', 'Messages cut at the size limit (kept, flagged truncated)', [
        'listener',
        'agency',
      ]),
      queued: make('queued', 'Records accepted by the queue', ['listener', 'agency']),
      rejected: make('rejected', 'Messages or connections refused at the edge, by reason', [
        'listener',
        'agency',
        'reason',
      ]),
      dropped: make(
        'dropped',
        'Records lost after receipt (UDP under backpressure, queue unavailable at shutdown)',
        ['listener', 'agency', 'reason'],
      ),
      parsed: make('parsed', 'Records normalised to events, by dataset', ['listener', 'agency', 'dataset']),
      parseFailures: make('parse_failures', 'Records that became _parse_failure events', [
        'listener',
        'agency',
      ]),
      connectionsClosed: make('connections_closed', 'Stream connections closed by siem-lite, by reason', [
        'listener',
        'reason',
      ]),
    };
    countersByRegistry.set(registry, counters);
  }
  return counters;
}

/**
 * Hot-path view of the counters: label children cached per (listener, agency), so counting a message is
 * a map lookup and an add rather than prom-client's per-call label hashing.
 */
interface LabelChildren {
  received: Counter.Internal;
  truncated: Counter.Internal;
  queued: Counter.Internal;
  /**
   * Messages received and not yet added to `received`: prom-client hashes and validates the labels on every
   * `inc` (~0.3 µs, once per message), so they are added in one `inc` when the counter is read.
   */
  unreported: number;
}

/**
 * Per counters (so per registry, whatever IngestAccounting counts into them): by listener, then agency.
 * Nested maps look up strings the records already hold, where a key concatenated per record had to be
 * flattened and hashed on every message.
 */
const childrenByCounters = new WeakMap<IngestCounters, Map<string, Map<string, LabelChildren>>>();

function childrenOf(counters: IngestCounters): Map<string, Map<string, LabelChildren>> {
  let children = childrenByCounters.get(counters);
  if (!children) {
    children = new Map();
    childrenByCounters.set(counters, children);
  }
  return children;
}

/** Adds the messages tallied since the last read to the `received` counter. */
function reportReceived(counters: IngestCounters): void {
  for (const byAgency of childrenOf(counters).values()) {
    for (const child of byAgency.values()) {
      if (child.unreported === 0) continue;
      child.received.inc(child.unreported);
      child.unreported = 0;
    }
  }
}

export class IngestAccounting {
  private readonly children: Map<string, Map<string, LabelChildren>>;

  constructor(readonly counters: IngestCounters = ingestCounters()) {
    this.children = childrenOf(counters);
  }

  private child(listener: string, agency: string): LabelChildren {
    let byAgency = this.children.get(listener);
    if (!byAgency) {
      byAgency = new Map();
      this.children.set(listener, byAgency);
    }
    let child = byAgency.get(agency);
    if (!child) {
      child = {
        received: this.counters.received.labels(listener, agency),
        truncated: this.counters.truncated.labels(listener, agency),
        queued: this.counters.queued.labels(listener, agency),
        unreported: 0,
      };
      byAgency.set(agency, child);
    }
    return child;
  }

  received(listener: string, agency: string, truncated: boolean, count = 1): void {
    const child = this.child(listener, agency);
    child.unreported += count;
    if (truncated) child.truncated.inc();
  }

  queued(listener: string, agency: string, count: number): void {
    this.child(listener, agency).queued.inc(count);
  }

  rejected(listener: string, agency: string, reason: string, count = 1): void {
    this.counters.rejected.labels(listener, agency, reason).inc(count);
  }

  connectionClosed(listener: string, reason: string): void {
    this.counters.connectionsClosed.labels(listener, reason).inc();
  }

  dropped(listener: string, agency: string, reason: string, count = 1): void {
    this.counters.dropped.labels(listener, agency, reason).inc(count);
  }
}
