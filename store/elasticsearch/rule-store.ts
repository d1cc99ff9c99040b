/**
 * Rules and filters in Elasticsearch, shared by every worker and API process. Writes carry the version
 * read (`if_seq_no`/`if_primary_term`). Change notices go over Redis pub/sub (`<redis prefix>:rules:changed`)
 * so that every process reloads at once; without Redis (single process) they stay in-process.
 */
import { EventEmitter } from 'node:events';
import type { Client } from '@elastic/elasticsearch';
import { Redis } from 'ioredis';
import type { Versioned } from '../../core/model.js';
import type { RuleRepository, StoredRule, WriteOutcome } from '../../core/ports.js';
import { ensureIndex, isNotFound, outcomeOf, parseSeqVersion } from './api-store-indices.js';

const keyword = { type: 'keyword' } as const;

export interface RuleNotifications {
  /** redis:// URL; the repository opens a publisher and (on first onChange) a subscriber connection. */
  redisUrl: string;
  /** Key prefix from `config.redis.prefix`. */
  prefix: string;
}

export class ElasticsearchRuleRepository implements RuleRepository {
  readonly #changes = new EventEmitter();
  readonly #channel: string | undefined;
  #publisher: Redis | undefined;
  #subscriber: Promise<Redis> | undefined;

  constructor(
    private readonly client: Client,
    private readonly index: string,
    private readonly notifications?: RuleNotifications,
  ) {
    this.#channel = notifications ? `${notifications.prefix}:rules:changed` : undefined;
  }

  async init(): Promise<void> {
    await ensureIndex(this.client, this.index, {
      dynamic: false,
      properties: {
        id: keyword,
        kind: keyword,
        enabled: { type: 'boolean' },
        origin: keyword,
        updatedAt: { type: 'date' },
      },
    });
  }

  async list(): Promise<Versioned<StoredRule>[]> {
    const response = await this.client.search<StoredRule>({
      index: this.index,
      size: 10_000,
      sort: [{ id: 'asc' }],
      seq_no_primary_term: true,
    });
    return response.hits.hits.map((hit) => ({
      value: hit._source!,
      version: `${hit._seq_no}:${hit._primary_term}`,
    }));
  }

  async get(id: string): Promise<Versioned<StoredRule> | null> {
    try {
      const response = await this.client.get<StoredRule>({ index: this.index, id, realtime: true });
      if (!response.found || !response._source) return null;
      return { value: response._source, version: `${response._seq_no}:${response._primary_term}` };
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  async put(rule: StoredRule, version: string | null): Promise<WriteOutcome> {
    let outcome: WriteOutcome;
    if (version === null) {
      outcome = await outcomeOf(() =>
        this.client.create({ index: this.index, id: rule.id, document: rule, refresh: true }),
      );
    } else {
      const parsed = parseSeqVersion(version);
      if (parsed === null) return 'conflict';
      outcome = await outcomeOf(() =>
        this.client.index({
          index: this.index,
          id: rule.id,
          document: rule,
          if_seq_no: parsed.seqNo,
          if_primary_term: parsed.primaryTerm,
          refresh: true,
        }),
      );
    }
    if (outcome === 'ok') await this.#announce();
    return outcome;
  }

  async delete(id: string): Promise<boolean> {
    try {
      await this.client.delete({ index: this.index, id, refresh: true });
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
    await this.#announce();
    return true;
  }

  async onChange(listener: () => void): Promise<() => Promise<void>> {
    this.#changes.on('change', listener);
    if (this.notifications && !this.#subscriber) {
      const { redisUrl } = this.notifications;
      this.#subscriber = (async () => {
        const subscriber = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: null });
        subscriber.on('error', () => {}); // reconnects by itself; a missed notice is caught by the next change
        await subscriber.connect();
        await subscriber.subscribe(this.#channel!);
        subscriber.on('message', (channel) => {
          if (channel === this.#channel) this.#changes.emit('change');
        });
        return subscriber;
      })();
    }
    await this.#subscriber;
    return async () => {
      this.#changes.off('change', listener);
    };
  }

  async close(): Promise<void> {
    this.#changes.removeAllListeners();
    const subscriber = this.#subscriber;
    this.#subscriber = undefined;
    if (subscriber) (await subscriber.catch(() => undefined))?.disconnect();
    this.#publisher?.disconnect();
    this.#publisher = undefined;
  }

  /** Tells every process (this one included, through its own subscription) that the rules changed. */
  async #announce(): Promise<void> {
    if (!this.notifications) {
      this.#changes.emit('change');
      return;
    }
    if (!this.#publisher) {
      this.#publisher = new Redis(this.notifications.redisUrl, { maxRetriesPerRequest: 3 });
      this.#publisher.on('error', () => {});
    }
    let receivers = 0;
    try {
      receivers = await this.#publisher.publish(this.#channel!, String(Date.now()));
    } catch {
      // Redis unreachable: the write stands; other processes see it on their next reload.
    }
    // Nobody subscribed through Redis (not even this process): tell local listeners directly.
    if (receivers === 0 || !this.#subscriber) this.#changes.emit('change');
  }
}
