/**
 * API keys in Elasticsearch, shared by every API process of a scale deployment. Reads by id are
 * real-time GETs, so a key created or revoked by one process is seen by the others at once.
 */
import type { Client } from '@elastic/elasticsearch';
import type { ApiKeyRepository, StoredApiKey, WriteOutcome } from '../../core/ports.js';
import { ensureIndex, isNotFound, outcomeOf } from './api-store-indices.js';

const keyword = { type: 'keyword' } as const;

export class ElasticsearchApiKeyRepository implements ApiKeyRepository {
  constructor(
    private readonly client: Client,
    private readonly index: string,
  ) {}

  async init(): Promise<void> {
    await ensureIndex(this.client, this.index, {
      dynamic: false,
      properties: {
        id: keyword,
        name: keyword,
        role: keyword,
        agencies: keyword,
        createdAt: { type: 'date' },
      },
    });
  }

  create(key: StoredApiKey): Promise<WriteOutcome> {
    return outcomeOf(() =>
      this.client.create({ index: this.index, id: key.id, document: key, refresh: true }),
    );
  }

  async get(id: string): Promise<StoredApiKey | null> {
    try {
      const response = await this.client.get<StoredApiKey>({ index: this.index, id, realtime: true });
      return response.found && response._source ? response._source : null;
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  async list(): Promise<StoredApiKey[]> {
    const response = await this.client.search<StoredApiKey>({
      index: this.index,
      size: 10_000,
      sort: [{ createdAt: 'asc' }, { id: 'asc' }],
    });
    return response.hits.hits.map((hit) => hit._source!);
  }

  async revoke(id: string, at: string): Promise<boolean> {
    // Compare-and-set on the version read: two processes revoking at once cannot both report success.
    for (let attempt = 0; attempt < 5; attempt++) {
      let response: Awaited<ReturnType<Client['get']>>;
      try {
        response = await this.client.get<StoredApiKey>({ index: this.index, id, realtime: true });
      } catch (error) {
        if (isNotFound(error)) return false;
        throw error;
      }
      const key = response._source as StoredApiKey | undefined;
      if (!response.found || !key || key.revokedAt) return false;
      const outcome = await outcomeOf(() =>
        this.client.index({
          index: this.index,
          id,
          document: { ...key, revokedAt: at },
          if_seq_no: response._seq_no!,
          if_primary_term: response._primary_term!,
          refresh: true,
        }),
      );
      if (outcome === 'ok') return true;
    }
    return false;
  }

  async close(): Promise<void> {}
}
