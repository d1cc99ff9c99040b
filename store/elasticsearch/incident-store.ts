/**
 * Incidents, dedup pointers and detections in Elasticsearch. Reads of incidents and pointers are
 * real-time GETs (`_mget` for a batch's keys); writes carry `if_seq_no`/`if_primary_term`, so a stale writer
 * gets a conflict instead of overwriting (the version string is `seqNo:primaryTerm`). Detections are
 * `create`d with their deterministic id: writing one twice leaves one. No write asks for a refresh: the
 * pipeline reads by id, which sees unrefreshed writes.
 */
import { type Client, errors, type estypes } from '@elastic/elasticsearch';
import type { Logger } from '../../core/logger.js';
import type { Detection, Incident, Versioned } from '../../core/model.js';
import type {
  BatchWriteOutcome,
  DetectionSearch,
  IncidentSearch,
  IncidentStore,
  IncidentWrite,
  WriteOutcome,
} from '../../core/ports.js';
import { StoreQueryError } from '../errors.js';
import { type BulkItem, bulkLines, bulkWrite, type RetryPolicy } from './bulk-writer.js';
import { createIndexIfMissing } from './event-store.js';
import {
  detectionsMappings,
  type IndexNames,
  incidentKeysMappings,
  incidentsIndexSettings,
  incidentsMappings,
} from './mappings.js';

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
    await createIndexIfMissing(
      this.#client,
      this.#names.incidents,
      incidentsMappings,
      incidentsIndexSettings,
    );
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

  async getDedupPointers(dedupKeys: string[]): Promise<(Versioned<string> | null)[]> {
    const pointers = await this.#getManyVersioned<DedupPointerDocument>(this.#names.incidentKeys, dedupKeys);
    return pointers.map((pointer) =>
      pointer === null ? null : { value: pointer.value.incidentId, version: pointer.version },
    );
  }

  getMany(ids: string[]): Promise<(Versioned<Incident> | null)[]> {
    return this.#getManyVersioned<Incident>(this.#names.incidents, ids);
  }

  /**
   * A batch's writes in at most two `_bulk` requests, each item with the outcome its single call would
   * give. Creates, updates and pointer moves go in the first; the incidents of `open`s whose pointer moved
   * go in the second. Elasticsearch has no transaction across two indices, so an `open` is pointer first,
   * incident second, as `setDedupPointer` + `create` are: a crash in between leaves a pointer to a missing
   * incident, which the next writer of that key creates (see IncidentWriter), and never an incident that
   * no pointer names (a duplicate).
   */
  async writeIncidents(writes: IncidentWrite[]): Promise<BatchWriteOutcome[]> {
    const outcomes: BatchWriteOutcome[] = writes.map(() => ({ outcome: 'conflict' }));
    const first: { item: BulkItem; write: number }[] = [];
    writes.forEach((write, i) => {
      switch (write.kind) {
        case 'create':
          first.push({ write: i, item: this.#incidentItem(write.incident, null) });
          return;
        case 'update': {
          const version = parseVersion(write.version);
          if (version !== null) first.push({ write: i, item: this.#incidentItem(write.incident, version) });
          return;
        }
        case 'open': {
          const version = write.pointerVersion === null ? null : parseVersion(write.pointerVersion);
          if (write.pointerVersion !== null && version === null) return;
          const document: DedupPointerDocument = {
            dedupKey: write.dedupKey,
            incidentId: write.incident.id,
            updatedAt: new Date().toISOString(),
          };
          first.push({
            write: i,
            item: {
              action: version === null ? 'create' : 'index',
              index: this.#names.incidentKeys,
              id: write.dedupKey,
              document,
              ...(version === null ? {} : { ifSeqNo: version.seqNo, ifPrimaryTerm: version.primaryTerm }),
            },
          });
        }
      }
    });
    const second: { item: BulkItem; write: number }[] = [];
    const firstOutcomes = await this.#bulkConditional(first.map((entry) => entry.item));
    first.forEach((entry, n) => {
      const write = writes[entry.write]!;
      const written = firstOutcomes[n]!;
      if (written.outcome === 'conflict') return;
      if (write.kind === 'open')
        second.push({ write: entry.write, item: this.#incidentItem(write.incident, null) });
      else outcomes[entry.write] = written;
    });
    const secondOutcomes = await this.#bulkConditional(second.map((entry) => entry.item));
    second.forEach((entry, n) => {
      outcomes[entry.write] = secondOutcomes[n]!;
    });
    return outcomes;
  }

  #incidentItem(incident: Incident, version: { seqNo: number; primaryTerm: number } | null): BulkItem {
    return version === null
      ? { action: 'create', index: this.#names.incidents, id: incident.id, document: incident }
      : {
          action: 'index',
          index: this.#names.incidents,
          id: incident.id,
          document: incident,
          ifSeqNo: version.seqNo,
          ifPrimaryTerm: version.primaryTerm,
        };
  }

  /**
   * `ok` with the version written or `conflict` (409) per item; any other refusal is an error, as it is for
   * the single calls.
   */
  async #bulkConditional(items: BulkItem[]): Promise<BatchWriteOutcome[]> {
    if (items.length === 0) return [];
    const outcomes = await bulkWrite(this.#client, items.map(bulkLines), {
      retry: this.#retry,
      logger: this.#logger,
      versions: true,
    });
    return outcomes.map((outcome, i): BatchWriteOutcome => {
      if ((outcome.status === 200 || outcome.status === 201) && outcome.version !== undefined)
        return { outcome: 'ok', version: outcome.version };
      if (outcome.status === 409) return { outcome: 'conflict' };
      throw new Error(
        `${items[i]!.index} refused ${items[i]!.id}: ${outcome.status} ${outcome.errorType ?? ''} ${outcome.errorReason ?? ''}`,
      );
    });
  }

  async addDetections(detections: Detection[]): Promise<void> {
    if (detections.length === 0) return;
    const items: BulkItem[] = detections.map((detection) => ({
      action: 'create',
      index: this.#names.detections,
      id: detection.id,
      document: detection,
    }));
    const outcomes = await bulkWrite(this.#client, items.map(bulkLines), {
      retry: this.#retry,
      logger: this.#logger,
    });
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

  /** Real-time `_mget`: one round trip for any number of ids, in their order (repeats allowed). */
  async #getManyVersioned<T>(index: string, ids: string[]): Promise<(Versioned<T> | null)[]> {
    if (ids.length === 0) return [];
    const response = await this.#client.mget<T>({ index, ids, realtime: true });
    return response.docs.map((doc) => {
      if ('error' in doc)
        throw new Error(`${index} read of ${doc._id} failed: ${doc.error.reason ?? doc.error.type}`);
      if (!doc.found || doc._source === undefined) return null;
      return { value: doc._source, version: `${doc._seq_no}:${doc._primary_term}` };
    });
  }

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
