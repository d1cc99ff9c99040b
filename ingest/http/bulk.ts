import { ndjsonLines } from './body.js';

/** One document of an Elasticsearch `_bulk` body that siem-lite takes in. */
export interface BulkDocument {
  /** Position in the response `items`. */
  item: number;
  action: 'index' | 'create';
  index: string;
  id?: string;
  source: string;
}

/** An action siem-lite answers with a per-item error (delete/update, malformed lines). */
export interface BulkRefusal {
  item: number;
  action: string;
  index: string;
  id?: string;
  status: number;
  type: string;
  reason: string;
}

/**
 * Reads an Elasticsearch bulk body: action lines (`{"index":{...}}`, `{"create":{...}}`, also `delete`
 * and `update`, which an ingest endpoint refuses per item) each followed by a source line (none for
 * `delete`). `defaultIndex` is the `/<index>/_bulk` path part.
 */
export function parseBulk(
  text: string,
  defaultIndex: string,
): { documents: BulkDocument[]; refusals: BulkRefusal[] } {
  const lines = ndjsonLines(text);
  const documents: BulkDocument[] = [];
  const refusals: BulkRefusal[] = [];
  let item = 0;
  for (let i = 0; i < lines.length; i++, item++) {
    let action: Record<string, unknown>;
    try {
      action = JSON.parse(lines[i]!) as Record<string, unknown>;
    } catch {
      refusals.push({
        item,
        action: 'index',
        index: defaultIndex,
        status: 400,
        type: 'illegal_argument_exception',
        reason: `malformed action/metadata line [${i + 1}]`,
      });
      continue;
    }
    const name = action && typeof action === 'object' ? Object.keys(action)[0] : undefined;
    const meta = (name ? (action[name] as Record<string, unknown> | null) : null) ?? {};
    const index = typeof meta._index === 'string' ? meta._index : defaultIndex;
    const id = typeof meta._id === 'string' ? meta._id : undefined;
    if (name === 'index' || name === 'create') {
      const source = lines[i + 1];
      i++;
      if (source === undefined) {
        refusals.push({
          item,
          action: name,
          index,
          ...(id ? { id } : {}),
          status: 400,
          type: 'illegal_argument_exception',
          reason: 'action without a source line',
        });
        continue;
      }
      documents.push({ item, action: name, index, ...(id ? { id } : {}), source });
    } else if (name === 'update' || name === 'delete') {
      if (name === 'update') i++; // its partial document
      refusals.push({
        item,
        action: name,
        index,
        ...(id ? { id } : {}),
        status: 400,
        type: 'action_request_validation_exception',
        reason: `siem-lite ingest accepts index and create actions only, not ${name}`,
      });
    } else {
      refusals.push({
        item,
        action: name ?? 'index',
        index,
        status: 400,
        type: 'illegal_argument_exception',
        reason: `unknown bulk action [${name}]`,
      });
    }
  }
  return { documents, refusals };
}

/** The per-item results in Elasticsearch's shape, in request order. */
export function bulkResponse(
  took: number,
  accepted: { item: number; action: string; index: string; id: string }[],
  refusals: BulkRefusal[],
): { took: number; errors: boolean; items: Record<string, unknown>[] } {
  const items: Record<string, unknown>[] = new Array(accepted.length + refusals.length);
  for (const doc of accepted) {
    items[doc.item] = {
      [doc.action]: {
        _index: doc.index,
        _id: doc.id,
        _version: 1,
        result: 'created',
        _shards: { total: 1, successful: 1, failed: 0 },
        _seq_no: 0,
        _primary_term: 1,
        status: 201,
      },
    };
  }
  for (const refusal of refusals) {
    items[refusal.item] = {
      [refusal.action]: {
        _index: refusal.index,
        ...(refusal.id ? { _id: refusal.id } : {}),
        status: refusal.status,
        error: { type: refusal.type, reason: refusal.reason },
      },
    };
  }
  return { took, errors: refusals.length > 0, items: items.filter(Boolean) };
}
