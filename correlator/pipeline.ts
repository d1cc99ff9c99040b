import type { Logger } from '../core/logger.js';
import type { Detection, RawRecord, RecordBatch, SecurityEvent } from '../core/model.js';
import type { BatchHandler, EventStore, IncidentChange } from '../core/ports.js';
import type { RuleSet } from '../rules/index.js';
import type { Correlator } from './correlation/correlate.js';
import { type DetectOptions, detect } from './detect.js';
import type { IncidentWriter } from './incidents.js';

/** Tag on an event that arrived too late for a correlation window it belongs to (indexed, not counted). */
export const LATE_TAG = '_correlation_late';

export interface PipelineStages {
  normalise: (records: RawRecord[]) => SecurityEvent[];
  events: EventStore;
  ruleSet: () => RuleSet;
  /** Correlation windows; without it, correlation rules are ignored. */
  correlator?: Correlator;
  incidents: IncidentWriter;
  /** Receives every incident change (live stream, webhooks, e-mail); failures are logged, never retried. */
  notify?: (changes: IncidentChange[]) => Promise<void>;
  detectOptions: DetectOptions;
  logger: Logger;
}

/**
 * The worker's job handler for one batch: normalise → match → correlate → index and incidents → notify.
 * Every stage is idempotent, so the queue may re-deliver a batch after a crash at any point. Correlation
 * runs before indexing so that an event too late for its window is stored with that flag in one write.
 */
export function createBatchProcessor(stages: PipelineStages): BatchHandler {
  return async (batch: RecordBatch) => {
    const ruleSet = stages.ruleSet();
    const events = stages.normalise(batch.records);
    const matched = detect(events, ruleSet, batch.id, stages.detectOptions);
    const correlated = stages.correlator
      ? await stages.correlator.correlate(ruleSet, matched, batch.id)
      : undefined;
    if (correlated && correlated.lateEventIds.size > 0) {
      for (const event of events) {
        if (correlated.lateEventIds.has(event.event.id)) event.tags = [...(event.tags ?? []), LATE_TAG];
      }
    }
    const opening: Detection[] = [];
    const evidenceOnly: Detection[] = [];
    for (const { detection, generates } of matched) (generates ? opening : evidenceOnly).push(detection);
    for (const detection of correlated?.detections ?? []) {
      (correlated!.silent.has(detection.id) ? evidenceOnly : opening).push(detection);
    }
    // Indexing and incidents at once: the incident stage's reads and planning run while the store writes
    // the events (embedded mode: on its writer thread, and the incident writes join the same group
    // commit), one store round trip less per batch. The batch completes only when both have, so its
    // events are written before it is acknowledged; if either fails the batch is re-delivered, and both
    // stages are idempotent.
    const [indexed, changes] = await Promise.all([
      stages.events.index(events),
      stages.incidents.apply(opening, evidenceOnly),
    ]);
    if (stages.notify && changes.length > 0) {
      await stages
        .notify(changes)
        .catch((error: unknown) =>
          stages.logger.warn({ err: (error as Error).message, batch: batch.id }, 'notify failed'),
        );
    }
    stages.logger.debug(
      {
        batch: batch.id,
        records: batch.records.length,
        ...indexed,
        detections: matched.length,
        correlations: correlated?.detections.length ?? 0,
        late: correlated?.lateEventIds.size ?? 0,
        changes: changes.length,
      },
      'batch processed',
    );
  };
}
