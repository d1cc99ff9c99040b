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

/**
 * Deletes every index and index template starting with `prefix`. The node refuses wildcard deletes
 * (`action.destructive_requires_name`, the 8.x default, as in production), so names are resolved first.
 */
export async function deleteIndices(prefix: string): Promise<void> {
  const resolved = await fetch(`${ELASTICSEARCH_URL}/_resolve/index/${prefix}*?expand_wildcards=all`);
  if (!resolved.ok)
    throw new Error(`resolving ${prefix}* failed: ${resolved.status} ${await resolved.text()}`);
  const { indices = [] } = (await resolved.json()) as { indices?: { name: string }[] };
  for (let start = 0; start < indices.length; start += 50) {
    const names = indices.slice(start, start + 50).map((index) => index.name);
    const response = await fetch(`${ELASTICSEARCH_URL}/${names.join(',')}?ignore_unavailable=true`, {
      method: 'DELETE',
    });
    if (!response.ok && response.status !== 404) {
      throw new Error(`deleting ${prefix}* failed: ${response.status} ${await response.text()}`);
    }
  }
  const templates = await fetch(`${ELASTICSEARCH_URL}/_index_template/${prefix}*`);
  if (templates.ok) {
    const { index_templates = [] } = (await templates.json()) as { index_templates?: { name: string }[] };
    for (const template of index_templates) {
      await fetch(`${ELASTICSEARCH_URL}/_index_template/${template.name}`, { method: 'DELETE' });
    }
  }
}
