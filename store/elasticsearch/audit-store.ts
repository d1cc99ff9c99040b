/**
 * The audit trail in Elasticsearch: append-only documents (`create` with the entry id), read newest first
 * with `search_after` on (time, id). Before/after states are kept in `_source`, not indexed.
 */
import type { Client, estypes } from '@elastic/elasticsearch';
import type { AuditEntry, AuditLog, AuditSearch } from '../../core/ports.js';
import {
  checkPageLimit,
  decodeAuditCursor,
  encodeAuditCursor,
  MAX_AUDIT_PAGE,
  timeBound,
} from '../api-cursors.js';
import { ensureIndex } from './api-store-indices.js';

const keyword = { type: 'keyword' } as const;

export class ElasticsearchAuditLog implements AuditLog {
  constructor(
    private readonly client: Client,
    private readonly index: string,
  ) {}

  async init(): Promise<void> {
    await ensureIndex(this.client, this.index, {
      dynamic: false,
      properties: {
        id: keyword,
        at: { type: 'date' },
        actor: keyword,
        actorKeyId: keyword,
        action: keyword,
        targetType: keyword,
        targetId: keyword,
        agency: keyword,
        requestId: keyword,
      },
    });
  }

  async append(entries: AuditEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const operations = entries.flatMap((entry) => [
      { create: { _index: this.index, _id: entry.id } },
      { ...entry, at: new Date(entry.at).toISOString() },
    ]);
    const response = await this.client.bulk({ operations });
    if (response.errors) {
      const failed = response.items.find((item) => item.create?.error && item.create.status !== 409);
      if (failed)
        throw new Error(`audit index refused an entry: ${failed.create?.error?.reason ?? 'unknown'}`);
    }
  }

  async list(search: AuditSearch): Promise<{ entries: AuditEntry[]; next?: string }> {
    const limit = checkPageLimit(search.limit, MAX_AUDIT_PAGE, 100);
    const filter: estypes.QueryDslQueryContainer[] = [];
    if (search.actor !== undefined) filter.push({ term: { actor: search.actor } });
    if (search.action !== undefined) filter.push({ term: { action: search.action } });
    if (search.targetType !== undefined) filter.push({ term: { targetType: search.targetType } });
    if (search.targetId !== undefined) filter.push({ term: { targetId: search.targetId } });
    const from = timeBound(search.time?.from);
    const to = timeBound(search.time?.to);
    if (from || to)
      filter.push({ range: { at: { ...(from ? { gte: from } : {}), ...(to ? { lt: to } : {}) } } });
    const after = search.after !== undefined ? decodeAuditCursor(search.after) : undefined;
    const response = await this.client.search<AuditEntry>({
      index: this.index,
      query: { bool: { filter } },
      sort: [{ at: 'desc' }, { id: 'desc' }],
      size: limit + 1,
      ...(after ? { search_after: [Date.parse(after[0]), after[1]] } : {}),
    });
    const hits = response.hits.hits;
    const entries = hits.slice(0, limit).map((hit) => hit._source!);
    const last = hits.length > limit ? entries[limit - 1] : undefined;
    return { entries, ...(last ? { next: encodeAuditCursor([last.at, last.id]) } : {}) };
  }

  async refresh(): Promise<void> {
    await this.client.indices.refresh({ index: this.index, ignore_unavailable: true });
  }

  async close(): Promise<void> {}
}
