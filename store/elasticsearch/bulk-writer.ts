/**
 * `_bulk` with per-item outcomes. Items answered 429 or 5xx (and whole requests that fail to connect or
 * answer 429/5xx) are sent again with exponential backoff; everything else is final. When retries run
 * out the call throws StoreUnavailableError, so the caller keeps its batch and tries again later:
 * nothing is dropped, and because writes are `create` with deterministic ids, nothing is duplicated.
 */
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

interface BulkResponseItem {
  status: number;
  error?: { type?: string; reason?: string };
}

export async function bulkWrite(
  client: Client,
  items: BulkItem[],
  options: { retry?: RetryPolicy; logger?: Logger; refresh?: boolean } = {},
): Promise<BulkOutcome[]> {
  const policy = options.retry ?? DEFAULT_RETRY;
  const outcomes: BulkOutcome[] = new Array(items.length);
  let pending = items.map((_, position) => position);
  for (let attempt = 0; pending.length > 0; attempt++) {
    if (attempt > 0) await sleep(backoffDelay(attempt - 1, policy));
    const lastAttempt = attempt === policy.attempts - 1;
    const body: string[] = [];
    for (const position of pending) {
      const item = items[position]!;
      const target =
        item.ifSeqNo === undefined
          ? { _index: item.index, _id: item.id }
          : {
              _index: item.index,
              _id: item.id,
              if_seq_no: item.ifSeqNo,
              if_primary_term: item.ifPrimaryTerm,
            };
      body.push(JSON.stringify({ [item.action]: target }));
      body.push(typeof item.document === 'string' ? item.document : JSON.stringify(item.document));
    }
    let responseItems: BulkResponseItem[];
    try {
      const response = await client.transport.request<{ items: Record<string, BulkResponseItem>[] }>(
        {
          method: 'POST',
          path: '/_bulk',
          bulkBody: `${body.join('\n')}\n`,
          querystring: {
            filter_path: 'items.*.status,items.*.error.type,items.*.error.reason',
            ...(options.refresh ? { refresh: 'true' } : {}),
          },
        },
        { maxRetries: 0 },
      );
      responseItems = response.items.map((entry) => Object.values(entry)[0]!);
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
      const result = responseItems[i];
      const status = result?.status ?? 500;
      if (isRetryableStatus(status)) {
        retry.push(position);
        outcomes[position] = { status, errorType: result?.error?.type, errorReason: result?.error?.reason };
      } else {
        outcomes[position] = { status, errorType: result?.error?.type, errorReason: result?.error?.reason };
      }
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

function describe(error: unknown): string {
  if (error instanceof errors.ResponseError) return `${error.meta.statusCode} ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}
