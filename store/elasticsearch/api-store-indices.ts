/**
 * Index helpers for the API-owned stores (keys, audit, rules): small single-shard indices with explicit
 * mappings, and optimistic-concurrency versions as `seqNo:primaryTerm` like the incident store's.
 */
import { type Client, errors, type estypes } from '@elastic/elasticsearch';
import type { WriteOutcome } from '../../core/ports.js';

export async function ensureIndex(
  client: Client,
  index: string,
  mappings: estypes.MappingTypeMapping,
): Promise<void> {
  try {
    await client.indices.create({
      index,
      settings: { number_of_shards: 1, auto_expand_replicas: '0-1' },
      mappings,
    });
  } catch (error) {
    if (
      error instanceof errors.ResponseError &&
      error.body?.error?.type === 'resource_already_exists_exception'
    )
      return;
    throw error;
  }
}

export function parseSeqVersion(version: string): { seqNo: number; primaryTerm: number } | null {
  const colon = version.indexOf(':');
  if (colon === -1) return null;
  const seqNo = Number(version.slice(0, colon));
  const primaryTerm = Number(version.slice(colon + 1));
  if (!Number.isSafeInteger(seqNo) || !Number.isSafeInteger(primaryTerm) || seqNo < 0 || primaryTerm < 1)
    return null;
  return { seqNo, primaryTerm };
}

export async function outcomeOf(write: () => Promise<unknown>): Promise<WriteOutcome> {
  try {
    await write();
    return 'ok';
  } catch (error) {
    if (error instanceof errors.ResponseError && error.meta.statusCode === 409) return 'conflict';
    throw error;
  }
}

export function isNotFound(error: unknown): boolean {
  return error instanceof errors.ResponseError && error.meta.statusCode === 404;
}
