/**
 * Access to the real services for integration tests. `npm test` starts them (tools/services.sh); a test
 * never mocks them. Each test run gets its own Elasticsearch index prefix and Redis key prefix, and
 * cleans them up, so runs can share one node.
 */
import { randomBytes } from 'node:crypto';

export const ELASTICSEARCH_URL = process.env.ELASTICSEARCH_URL ?? 'http://127.0.0.1:9200';
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A unique, valid index/key prefix for one test suite, e.g. `t-3f9a1c-store`. */
export function uniquePrefix(label: string): string {
  return `t-${randomBytes(3).toString('hex')}-${label.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`;
}

/** Deletes every index starting with `prefix` (the dev node has no delete-by-query; indices are the unit). */
export async function deleteIndices(prefix: string): Promise<void> {
  const response = await fetch(`${ELASTICSEARCH_URL}/${prefix}*?expand_wildcards=all&ignore_unavailable=true`, {
    method: 'DELETE',
  });
  if (!response.ok && response.status !== 404) {
    throw new Error(`deleting ${prefix}* failed: ${response.status} ${await response.text()}`);
  }
  await fetch(`${ELASTICSEARCH_URL}/_index_template/${prefix}*`, { method: 'DELETE' });
}
