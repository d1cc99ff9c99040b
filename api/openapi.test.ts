/**
 * The OpenAPI document is the API's reference: every route is in it, and every operation shows an example
 * of its answer (and of its body, when it takes one), directly or through the schemas it references.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../core/logger.js';
import { MemoryChangeFeed } from '../correlator/change-feed.js';
import { InProcessQueue } from '../correlator/queue/in-process.js';
import { type Harness, openHarness } from './testing/harness.js';

interface OpenApi {
  paths: Record<string, Record<string, { requestBody?: unknown; responses?: Record<string, unknown> }>>;
  components: { schemas: Record<string, unknown> };
}

describe('OpenAPI document', () => {
  let h: Harness;
  beforeAll(async () => {
    const deadLetters = new InProcessQueue({
      maxPendingBatches: 1,
      concurrency: 1,
      logger: createLogger({ level: 'silent' }),
    });
    h = await openHarness('embedded', { changes: new MemoryChangeFeed(), deadLetters });
  });
  afterAll(async () => {
    await h?.dispose();
  });

  it('lists every route, each with examples of its answer and body', async () => {
    const doc = (await h.app.inject({ url: '/openapi.json' })).json() as OpenApi;
    const hasExample = (value: unknown, seen = new Set<string>()): boolean => {
      const text = JSON.stringify(value ?? {});
      if (text.includes('"example')) return true;
      for (const [, name] of text.matchAll(/#\/components\/schemas\/([^"]+)/g)) {
        if (seen.has(name!)) continue;
        seen.add(name!);
        if (hasExample(doc.components.schemas[name!], seen)) return true;
      }
      return false;
    };
    const missing: string[] = [];
    const operations: string[] = [];
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(methods)) {
        operations.push(`${method.toUpperCase()} ${path}`);
        const success = Object.entries(operation.responses ?? {}).filter(([code]) => code.startsWith('2'));
        if (!success.some(([, response]) => hasExample(response))) missing.push(`${method} ${path} (answer)`);
        if (operation.requestBody !== undefined && !hasExample(operation.requestBody)) {
          missing.push(`${method} ${path} (body)`);
        }
      }
    }
    expect(missing).toEqual([]);
    for (const route of [
      'GET /api/rules',
      'GET /api/rules/{id}',
      'POST /api/rules',
      'PUT /api/rules/{id}',
      'PATCH /api/rules/{id}',
      'DELETE /api/rules/{id}',
      'POST /api/rules/validate',
      'POST /api/rules/{id}/hunt',
      'GET /api/hunts/{id}',
      'DELETE /api/hunts/{id}',
      'POST /api/incidents/{id}/false-positive',
      'GET /api/agencies',
      'GET /api/sources',
      'GET /api/dead-letters',
      'GET /api/stream',
    ]) {
      expect(operations).toContain(route);
    }
  });
});
