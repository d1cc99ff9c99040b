/**
 * `_bulk` with per-item outcomes. Items answered 429 or 5xx (and whole requests that fail to connect or
 * answer 429/5xx) are sent again with exponential backoff; everything else is final. When retries run
 * out the call throws StoreUnavailableError, so the caller keeps its batch and tries again later:
 * nothing is dropped, and because writes are `create` with deterministic ids, nothing is duplicated.
 *
 * Items travel as their NDJSON lines already encoded to UTF-8 (`bulkLines`), once: a request body is its
 * items' bytes, sent as they lie (runs of adjacent items as one piece, not copied into one buffer), and a
 * retry sends the same bytes again. A string body would be measured and encoded again by the client per
 * request (two passes over megabytes), and thousands of JSON strings waiting in the batcher survived
 * young-generation collections: encoded bytes live outside the JavaScript heap, and each megabyte
 * allocated there brings the next full collection nearer (docs/benchmarks.md, "Store (issue 5)").
 */
import { Readable } from 'node:stream';
import { type Client, errors } from '@elastic/elasticsearch';
import type { Logger } from '../../core/logger.js';
import { StoreUnavailableError } from '../errors.js';

export interface BulkItem {
  action: 'create' | 'index';
  index: string;
  id: string;
  /** The document, or its JSON when already serialised. */
  document: unknown;
  /** Optimistic concurrency: written only if the stored document still has this sequence number and term. */
  ifSeqNo?: number;
  ifPrimaryTerm?: number;
}

export interface BulkOutcome {
  status: number;
  errorType?: string;
  errorReason?: string;
  /** The document's version after a write (`_seq_no:_primary_term`), when asked for with `versions`. */
  version?: string;
}

export interface RetryPolicy {
  /** Attempts per item, the first included. */
  attempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 8, initialDelayMs: 100, maxDelayMs: 5_000 };

export function isRetryableStatus(status: number): boolean {
  return status === 429 || status >= 500;
}

/** Exponential backoff with full jitter. */
export function backoffDelay(attempt: number, policy: RetryPolicy): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** attempt);
  return Math.floor(ceiling / 2 + (Math.random() * ceiling) / 2);
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** True for failures of the whole request that are worth retrying (connection, timeout, 429, 5xx). */
export function isTransient(error: unknown): boolean {
  if (error instanceof errors.ConnectionError || error instanceof errors.TimeoutError) return true;
  if (error instanceof errors.NoLivingConnectionsError) return true;
  if (error instanceof errors.ResponseError) return isRetryableStatus(error.meta.statusCode ?? 0);
  return false;
}

/**
 * Lines are written into shared chunks (a view of its bytes per item) rather than a buffer each: one
 * allocation per several hundred items instead of one per few (Buffer's 8 KB pool), each of which counts
 * against the heap's external memory.
 */
const CHUNK_BYTES = 1 << 20;
let chunk = Buffer.allocUnsafe(0);
let chunkUsed = 0;

/** An item's action and document lines, UTF-8, each ending in a newline. */
export function bulkLines(item: BulkItem): Buffer {
  const target =
    item.ifSeqNo === undefined
      ? `{"_index":${JSON.stringify(item.index)},"_id":${JSON.stringify(item.id)}}`
      : JSON.stringify({
          _index: item.index,
          _id: item.id,
          if_seq_no: item.ifSeqNo,
          if_primary_term: item.ifPrimaryTerm,
        });
  const action = `{"${item.action}":${target}}\n`;
  const document = typeof item.document === 'string' ? item.document : JSON.stringify(item.document);
  // A UTF-16 unit is at most 3 bytes of UTF-8: room for that is checked instead of measuring the text
  // first (a second pass over it, which cost more than the encoding saved by copying ASCII as latin1).
  const room = (action.length + document.length) * 3 + 1;
  if (chunkUsed + room > chunk.length) {
    chunk = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, room));
    chunkUsed = 0;
  }
  const start = chunkUsed;
  let end = start + chunk.write(action, start, 'utf8');
  end += chunk.write(document, end, 'utf8');
  chunk[end++] = 0x0a;
  chunkUsed = end;
  return chunk.subarray(start, end);
}

interface BulkResponseItem {
  status: number;
  error?: { type?: string; reason?: string };
  _seq_no?: number;
  _primary_term?: number;
}

/** The response fields an outcome needs; versions only where asked (an event batch's items do not need them). */
const OUTCOME_FIELDS = 'items.*.status,items.*.error.type,items.*.error.reason';
const VERSION_FIELDS = `${OUTCOME_FIELDS},items.*._seq_no,items.*._primary_term`;

/**
 * `items` are the items' `bulkLines`; the outcomes are in the same order. `versions`: give each written
 * document's version in its outcome.
 */
export async function bulkWrite(
  client: Client,
  items: Buffer[],
  options: { retry?: RetryPolicy; logger?: Logger; refresh?: boolean; versions?: boolean } = {},
): Promise<BulkOutcome[]> {
  const policy = options.retry ?? DEFAULT_RETRY;
  const outcomes: BulkOutcome[] = new Array(items.length);
  let pending = items.map((_, position) => position);
  for (let attempt = 0; pending.length > 0; attempt++) {
    if (attempt > 0) await sleep(backoffDelay(attempt - 1, policy));
    const lastAttempt = attempt === policy.attempts - 1;
    const { pieces, bytes } = bodyPieces(
      pending.length === items.length ? items : pending.map((i) => items[i]!),
    );
    let responseItems: Record<string, BulkResponseItem>[];
    try {
      const response = await client.transport.request<{ items: Record<string, BulkResponseItem>[] }>(
        {
          method: 'POST',
          path: '/_bulk',
          bulkBody: pieces.length === 1 ? pieces[0]! : Readable.from(pieces, { objectMode: false }),
          querystring: {
            filter_path: options.versions ? VERSION_FIELDS : OUTCOME_FIELDS,
            ...(options.refresh ? { refresh: 'true' } : {}),
          },
        },
        // The client sets the length of a buffer body itself; a stream's it cannot know.
        { maxRetries: 0, ...(pieces.length === 1 ? {} : { headers: { 'content-length': String(bytes) } }) },
      );
      responseItems = response.items;
    } catch (error) {
      if (!isTransient(error) || lastAttempt) {
        throw new StoreUnavailableError(`bulk write of ${pending.length} items failed: ${describe(error)}`, {
          cause: error,
        });
      }
      options.logger?.warn({ err: describe(error), attempt }, 'bulk request failed, retrying');
      continue;
    }
    const retry: number[] = [];
    for (let i = 0; i < pending.length; i++) {
      const position = pending[i]!;
      const entry = responseItems[i];
      const result = entry === undefined ? undefined : firstValue(entry);
      const status = result?.status ?? 500;
      outcomes[position] = { status, errorType: result?.error?.type, errorReason: result?.error?.reason };
      if (result?._seq_no !== undefined && result._primary_term !== undefined)
        outcomes[position].version = `${result._seq_no}:${result._primary_term}`;
      if (isRetryableStatus(status)) retry.push(position);
    }
    if (retry.length > 0 && lastAttempt) {
      const sample = outcomes[retry[0]!]!;
      throw new StoreUnavailableError(
        `${retry.length} bulk items still failing after ${policy.attempts} attempts (${sample.status} ${sample.errorType ?? ''})`,
      );
    }
    if (retry.length > 0) {
      options.logger?.warn({ items: retry.length, attempt }, 'bulk items rejected with 429/5xx, retrying');
    }
    pending = retry;
  }
  return outcomes;
}

/** A request body's pieces: items' lines adjacent in one chunk (the usual case, written in order) joined. */
function bodyPieces(items: Buffer[]): { pieces: Buffer[]; bytes: number } {
  const pieces: Buffer[] = [];
  let bytes = 0;
  let first = items[0]!;
  let end = first.byteOffset + first.length;
  const close = () => {
    pieces.push(Buffer.from(first.buffer, first.byteOffset, end - first.byteOffset));
    bytes += end - first.byteOffset;
  };
  for (let i = 1; i < items.length; i++) {
    const next = items[i]!;
    if (next.buffer === first.buffer && next.byteOffset === end) {
      end += next.length;
    } else {
      close();
      first = next;
      end = next.byteOffset + next.length;
    }
  }
  close();
  return { pieces, bytes };
}

/** The one entry of a response item (`{"create": {...}}`), without an array per item. */
function firstValue(entry: Record<string, BulkResponseItem>): BulkResponseItem | undefined {
  for (const action in entry) return entry[action];
  return undefined;
}

function describe(error: unknown): string {
  if (error instanceof errors.ResponseError) return `${error.meta.statusCode} ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}
