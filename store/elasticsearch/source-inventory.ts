/**
 * The source inventory in Elasticsearch: one document per source (`<prefix>-sources`). Workers update it
 * by read-modify-write with the version read (no scripts: the dev node has none); a write that lost a
 * race with another worker is read again and retried, so counts are never lost or doubled.
 */
import type { Client, estypes } from '@elastic/elasticsearch';
import type { SourceInventory, SourceObservation, SourceRecord } from '../../core/ports.js';
import { foldObservations, mergeSource } from '../source-inventory.js';
import { ensureIndex } from './api-store-indices.js';

const keyword = { type: 'keyword' } as const;
const MAX_ATTEMPTS = 30;
/** Sources listed at most (a province has hundreds). */
const MAX_SOURCES = 10_000;

export class ElasticsearchSourceInventory implements SourceInventory {
  constructor(
    private readonly client: Client,
    private readonly index: string,
  ) {}

  async init(): Promise<void> {
    await ensureIndex(this.client, this.index, {
      dynamic: false,
      properties: {
        id: keyword,
        agency: keyword,
        host: keyword,
        listener: keyword,
        lastSeen: { type: 'date' },
      },
    });
  }

  async record(observations: SourceObservation[]): Promise<void> {
    let pending = foldObservations(observations);
    for (let attempt = 0; pending.size > 0; attempt++) {
      if (attempt === MAX_ATTEMPTS) {
        throw new Error(
          `source inventory: ${pending.size} sources still conflicting after ${MAX_ATTEMPTS} attempts`,
        );
      }
      // Workers that collided back off for a random while, so they stop colliding.
      if (attempt > 0)
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * Math.min(attempt, 5)));
      const ids = [...pending.keys()];
      const current = await this.client.mget<SourceRecord>({ index: this.index, ids, realtime: true });
      const operations: (estypes.BulkOperationContainer | SourceRecord)[] = [];
      for (const doc of current.docs) {
        const observation = pending.get(doc._id)!;
        const found = 'found' in doc && doc.found && doc._source;
        const next = mergeSource(found ? doc._source : undefined, observation);
        operations.push(
          found
            ? {
                index: {
                  _index: this.index,
                  _id: doc._id,
                  if_seq_no: doc._seq_no,
                  if_primary_term: doc._primary_term,
                },
              }
            : { create: { _index: this.index, _id: doc._id } },
          next,
        );
      }
      // wait_for: once a flush returns, reads see it (the flush runs off the event path).
      const response = await this.client.bulk({ operations, refresh: 'wait_for' });
      const retry = new Map<string, SourceObservation>();
      for (const item of response.items) {
        const result = item.index ?? item.create!;
        if (!result.error) continue;
        if (result.status !== 409) {
          throw new Error(`source inventory write refused: ${result.error.reason ?? result.error.type}`);
        }
        retry.set(result._id!, pending.get(result._id!)!);
      }
      pending = retry;
    }
  }

  async list(scope: { agencies?: string[] }): Promise<SourceRecord[]> {
    if (scope.agencies?.length === 0) return [];
    const response = await this.client.search<SourceRecord>({
      index: this.index,
      size: MAX_SOURCES,
      query: scope.agencies ? { terms: { agency: scope.agencies } } : { match_all: {} },
      sort: [{ agency: 'asc' }, { host: 'asc' }],
    });
    return response.hits.hits.map((hit) => hit._source!);
  }

  async close(): Promise<void> {}
}
