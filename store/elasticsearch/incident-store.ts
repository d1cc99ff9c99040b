/**
 * Incidents, dedup pointers and detections in Elasticsearch. Reads of one incident or pointer are
 * real-time GETs; writes carry `if_seq_no`/`if_primary_term`, so a stale writer gets a conflict instead of
 * overwriting (the version string is `seqNo:primaryTerm`). Detections are `create`d with their
 * deterministic id: writing one twice leaves one.
 */
import { type Client, errors, type estypes } from '@elastic/elasticsearch';
import type { Logger } from '../../core/logger.js';
import type { Detection, Incident, Versioned } from '../../core/model.js';
import type { DetectionSearch, IncidentSearch, IncidentStore, WriteOutcome } from '../../core/ports.js';
import { StoreQueryError } from '../errors.js';
import { type BulkItem, bulkWrite, type RetryPolicy } from './bulk-writer.js';
import { createIndexIfMissing } from './event-store.js';
import { detectionsMappings, type IndexNames, incidentKeysMappings, incidentsMappings } from './mappings.js';

interface DedupPointerDocument {
  dedupKey: string;
  incidentId: string;
  updatedAt: string;
}

export const DEFAULT_INCIDENT_LIMIT = 100;
export const MAX_INCIDENT_LIMIT = 10_000;

export class ElasticsearchIncidentStore implements IncidentStore {
  readonly #client: Client;
  readonly #names: IndexNames;
  readonly #logger: Logger | undefined;
  readonly #retry: RetryPolicy | undefined;

  constructor(options: { client: Client; names: IndexNames; logger?: Logger; retry?: RetryPolicy }) {
    this.#client = options.client;
    this.#names = options.names;
    this.#logger = options.logger;
    this.#retry = options.retry;
  }

  async init(): Promise<void> {
    await createIndexIfMissing(this.#client, this.#names.incidents, incidentsMappings);
    await createIndexIfMissing(this.#client, this.#names.incidentKeys, incidentKeysMappings);
    await createIndexIfMissing(this.#client, this.#names.detections, detectionsMappings);
  }

  get(id: string): Promise<Versioned<Incident> | null> {
    return this.#getVersioned<Incident>(this.#names.incidents, id);
  }

  create(incident: Incident): Promise<WriteOutcome> {
    return conflictOnStatus409(() =>
      this.#client.create({ index: this.#names.incidents, id: incident.id, document: incident }),
    );
  }

  update(incident: Incident, version: string): Promise<WriteOutcome> {
    const parsed = parseVersion(version);
    if (parsed === null) return Promise.resolve('conflict');
    return conflictOnStatus409(() =>
      this.#client.index({
        index: this.#names.incidents,
        id: incident.id,
        document: incident,
        if_seq_no: parsed.seqNo,
        if_primary_term: parsed.primaryTerm,
      }),
    );
  }

  async getDedupPointer(dedupKey: string): Promise<Versioned<string> | null> {
    const pointer = await this.#getVersioned<DedupPointerDocument>(this.#names.incidentKeys, dedupKey);
    return pointer === null ? null : { value: pointer.value.incidentId, version: pointer.version };
  }

  setDedupPointer(dedupKey: string, incidentId: string, version: string | null): Promise<WriteOutcome> {
    const document: DedupPointerDocument = { dedupKey, incidentId, updatedAt: new Date().toISOString() };
    if (version === null) {
      return conflictOnStatus409(() =>
        this.#client.create({ index: this.#names.incidentKeys, id: dedupKey, document }),
      );
    }
    const parsed = parseVersion(version);
    if (parsed === null) return Promise.resolve('conflict');
    return conflictOnStatus409(() =>
      this.#client.index({
        index: this.#names.incidentKeys,
        id: dedupKey,
        document,
        if_seq_no: parsed.seqNo,
        if_primary_term: parsed.primaryTerm,
      }),
    );
  }

  async addDetections(detections: Detection[]): Promise<void> {
    if (detections.length === 0) return;
    const items: BulkItem[] = detections.map((detection) => ({
      action: 'create',
      index: this.#names.detections,
      id: detection.id,
      document: detection,
    }));
    const outcomes = await bulkWrite(this.#client, items, { retry: this.#retry, logger: this.#logger });
    const refused = outcomes.filter((outcome) => outcome.status >= 300 && outcome.status !== 409);
    if (refused.length > 0) {
      throw new Error(`detections index refused ${refused.length} documents: ${refused[0]!.errorReason}`);
    }
  }

  async listDetections(search: DetectionSearch): Promise<Detection[]> {
    const limit = checkLimit(search.limit);
    const filter: estypes.QueryDslQueryContainer[] = [];
    if (search.agencies !== undefined) filter.push({ terms: { agency: search.agencies } });
    if (search.ruleId !== undefined) filter.push({ term: { ruleId: search.ruleId } });
    if (search.eventId !== undefined) filter.push({ term: { eventIds: search.eventId } });
    const response = await this.#client.search<Detection>({
      index: this.#names.detections,
      query: { bool: { filter } },
      sort: [{ timestamp: { order: 'desc' } }, { id: { order: 'desc' } }],
      size: limit,
    });
    return response.hits.hits.map((hit) => hit._source!);
  }

  async list(search: IncidentSearch): Promise<Incident[]> {
    const limit = checkLimit(search.limit);
    const filter: estypes.QueryDslQueryContainer[] = [];
    if (search.agencies !== undefined) filter.push({ terms: { agency: search.agencies } });
    if (search.status !== undefined) filter.push({ terms: { status: search.status } });
    if (search.ruleId !== undefined) filter.push({ term: { ruleId: search.ruleId } });
    const response = await this.#client.search<Incident>({
      index: this.#names.incidents,
      query: { bool: { filter } },
      sort: [{ lastSeen: { order: 'desc' } }, { id: { order: 'desc' } }],
      size: limit,
    });
    return response.hits.hits.map((hit) => hit._source!);
  }

  async refresh(): Promise<void> {
    await this.#client.indices.refresh({
      index: [this.#names.incidents, this.#names.incidentKeys, this.#names.detections],
      ignore_unavailable: true,
    });
  }

  async close(): Promise<void> {}

  async #getVersioned<T>(index: string, id: string): Promise<Versioned<T> | null> {
    try {
      const response = await this.#client.get<T>({ index, id, realtime: true });
      if (!response.found || response._source === undefined) return null;
      return { value: response._source, version: `${response._seq_no}:${response._primary_term}` };
    } catch (error) {
      if (error instanceof errors.ResponseError && error.meta.statusCode === 404) return null;
      throw error;
    }
  }
}

function checkLimit(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_INCIDENT_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_INCIDENT_LIMIT) {
    throw new StoreQueryError(`limit must be an integer from 1 to ${MAX_INCIDENT_LIMIT}`);
  }
  return limit;
}

function parseVersion(version: string): { seqNo: number; primaryTerm: number } | null {
  const colon = version.indexOf(':');
  if (colon === -1) return null;
  const seqNo = Number(version.slice(0, colon));
  const primaryTerm = Number(version.slice(colon + 1));
  if (!Number.isSafeInteger(seqNo) || !Number.isSafeInteger(primaryTerm) || seqNo < 0 || primaryTerm < 1)
    return null;
  return { seqNo, primaryTerm };
}

async function conflictOnStatus409(write: () => Promise<unknown>): Promise<WriteOutcome> {
  try {
    await write();
    return 'ok';
  } catch (error) {
    if (error instanceof errors.ResponseError && error.meta.statusCode === 409) return 'conflict';
    throw error;
  }
}
