import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../core/logger.js';
import { createSqliteStores } from '../store/sqlite/index.js';
import { ApiKeyStore, ensureAdminKey } from './keys.js';
import { buildApiServer } from './server.js';

const logger = createLogger({ level: 'silent' });

describe('API server', () => {
  let dir: string;
  let app: FastifyInstance;
  let stores: ReturnType<typeof createSqliteStores>;
  let adminKey: string;
  let keys: ApiKeyStore;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'siem-api-'));
    stores = createSqliteStores({ path: join(dir, 'siem.sqlite'), logger });
    await stores.events.init();
    await stores.incidents.init();
    keys = ApiKeyStore.inDataDir(dir);
    adminKey = (await ensureAdminKey(keys, dir))!.key;
    app = await buildApiServer({ ...stores, keys, logger, mode: 'embedded', version: 'test' });
  });
  afterAll(async () => {
    await app.close();
    await stores.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const get = (url: string, key?: string) =>
    app.inject({ method: 'GET', url, headers: key ? { authorization: `Bearer ${key}` } : {} });

  it('answers /healthz without a key', async () => {
    const response = await get('/healthz');
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'ok', mode: 'embedded', version: 'test' });
  });

  it('writes the first admin key once, to a 0600 file, and never again', async () => {
    expect(adminKey).toMatch(/^sl_[0-9a-f]{12}_[A-Za-z0-9_-]+$/);
    expect(statSync(join(dir, 'admin.key')).mode & 0o777).toBe(0o600);
    expect(await ensureAdminKey(keys, dir)).toBeUndefined();
    // Stored hashed: the key text is nowhere in the key file.
    const { readFileSync } = await import('node:fs');
    expect(readFileSync(join(dir, 'api-keys.json'), 'utf8')).not.toContain(adminKey.split('_')[2]);
  });

  it('refuses anonymous, unknown and malformed keys with a code and a message', async () => {
    for (const key of [undefined, 'nope', 'sl_000000000000_secret', `${adminKey}x`]) {
      const response = await get('/api/incidents', key);
      expect(response.statusCode).toBe(401);
      expect(response.json().error).toMatchObject({ code: 'unauthenticated', message: expect.any(String) });
    }
  });

  it('refuses a revoked key', async () => {
    const { key, id } = await keys.create({ name: 'temp', role: 'analyst' });
    expect((await get('/api/incidents', key)).statusCode).toBe(200);
    keys.revoke(id);
    expect((await get('/api/incidents', key)).statusCode).toBe(401);
  });

  it('keeps roles to their routes', async () => {
    const { key } = await keys.create({ name: 'wall', role: 'ioc' });
    const response = await get('/api/incidents', key);
    expect(response.statusCode).toBe(403);
    expect(response.json().error.code).toBe('forbidden');
  });

  it('answers bad parameters with 400 invalid_request, never 500', async () => {
    for (const url of [
      '/api/incidents?limit=0',
      '/api/incidents?status=open',
      '/api/events?filter=nocolon',
      '/api/events?from=yesterday',
    ]) {
      const response = await get(url, adminKey);
      expect(response.statusCode, url).toBe(400);
      expect(response.json().error.code).toBe('invalid_request');
    }
  });

  it('answers unknown routes and incidents with 404 not_found', async () => {
    expect((await get('/api/nothing', adminKey)).json().error.code).toBe('not_found');
    const response = await get('/api/incidents/does-not-exist', adminKey);
    expect(response.statusCode).toBe(404);
  });

  it('serves an OpenAPI 3 document listing the routes', async () => {
    const response = await get('/openapi.json');
    expect(response.statusCode).toBe(200);
    const doc = response.json();
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/healthz', '/api/incidents', '/api/events']),
    );
  });
});
