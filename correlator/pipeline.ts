import type { Logger } from '../core/logger.js';
import type { RawRecord, RecordBatch, SecurityEvent } from '../core/model.js';
import type { BatchHandler, EventStore } from '../core/ports.js';
import type { RuleSet } from '../rules/index.js';
import { type DetectOptions, detect } from './detect.js';
import type { IncidentWriter } from './incidents.js';

export interface PipelineStages {
  normalise: (records: RawRecord[]) => SecurityEvent[];
  events: EventStore;
  ruleSet: () => RuleSet;
  incidents: IncidentWriter;
  detectOptions: DetectOptions;
  logger: Logger;
}

/**
 * The worker's job handler: normalise → index → match → incidents, for one batch.
 * Every stage is idempotent, so the queue may re-deliver a batch after a crash at any point.
 */
export function createBatchProcessor(stages: PipelineStages): BatchHandler {
  return async (batch: RecordBatch) => {
    const events = stages.normalise(batch.records);
    const indexed = await stages.events.index(events);
    const detections = detect(events, stages.ruleSet(), batch.id, stages.detectOptions);
    await stages.incidents.apply(detections);
    stages.logger.debug(
      { batch: batch.id, records: batch.records.length, ...indexed, detections: detections.length },
      'batch processed',
    );
  };
}
