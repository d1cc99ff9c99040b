import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSqliteApiStores } from '../store/sqlite/index.js';
import { ApiKeyService, ensureAdminKey } from './keys.js';
import { AGENCY_A, type Harness, openHarness } from './testing/harness.js';

describe('API server', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await openHarness('embedded');
  });
  afterAll(async () => {
    await h?.dispose();
  });

  it('answers /healthz without a key, with security headers and a request id', async () => {
    const response = await h.call('GET', '/healthz', undefined, undefined, { 'x-request-id': 'probe-1' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'ok', mode: 'embedded', version: 'test' });
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['x-request-id']).toBe('probe-1');
  });

  it('refuses anonymous, unknown and malformed keys with a code and a message', async () => {
    for (const key of [undefined, 'nope', 'sl_000000000000_secret', `${h.key.admin}x`]) {
      const response = await h.call('GET', '/api/incidents', key);
      expect(response.statusCode).toBe(401);
      expect(response.json().error).toMatchObject({ code: 'unauthenticated', message: expect.any(String) });
    }
  });

  it('refuses a revoked key, in this process at once and in another within the recheck interval', async () => {
    const { key, info } = await h.keys.create({ name: 'temp', role: 'analyst' });
    const other = new ApiKeyService(h.apiStores.keys, { recheckMs: 200 });
    expect(await other.verify(key)).toMatchObject({ role: 'analyst' });
    expect((await h.call('GET', '/api/incidents', key)).statusCode).toBe(200);
    await h.keys.revoke(info.id);
    expect((await h.call('GET', '/api/incidents', key)).statusCode).toBe(401);
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(await other.verify(key)).toBeUndefined();
  });

  it('keeps roles to their routes', async () => {
    for (const key of [h.key.ioc, h.key.ingest]) {
      const response = await h.call('GET', '/api/incidents', key);
      expect(response.statusCode).toBe(403);
      expect(response.json().error.code).toBe('forbidden');
    }
    expect((await h.call('GET', '/api/audit', h.key.analyst)).statusCode).toBe(403);
    expect((await h.call('GET', '/api/keys', h.key.agencyA)).statusCode).toBe(403);
  });

  it('tells every role who it is (GET /api/me), never another key', async () => {
    const me = async (key: string) => (await h.call('GET', '/api/me', key)).json();
    expect(await me(h.key.agencyA)).toMatchObject({ role: 'agency_analyst', agencies: [AGENCY_A] });
    expect(await me(h.key.analyst)).toMatchObject({ role: 'analyst', agencies: null });
    expect(await me(h.key.ioc)).toMatchObject({ role: 'ioc' });
    expect((await me(h.key.ingest)).role).toBe('ingest');
    const admin = await me(h.key.admin);
    expect(admin.role).toBe('admin');
    expect(admin.keyId).not.toBe((await me(h.key.analyst)).keyId);
    expect(JSON.stringify(admin)).not.toContain(h.key.admin);
    expect((await h.call('GET', '/api/me')).statusCode).toBe(401);
  });

  it('answers bad parameters with 400 invalid_request, never 500', async () => {
    for (const url of [
      '/api/incidents?limit=0',
      '/api/incidents?status=open',
      '/api/incidents?sort=nonsense',
      '/api/incidents?after=%%%',
      '/api/events?filter=nocolon',
      '/api/events?from=yesterday',
    ]) {
      const response = await h.call('GET', url, h.key.admin);
      expect(response.statusCode, url).toBe(400);
      expect(['invalid_request', 'invalid_query']).toContain(response.json().error.code);
    }
  });

  it('answers query-language errors with the column', async () => {
    const response = await h.call(
      'GET',
      `/api/events?q=${encodeURIComponent('user.name:(root')}`,
      h.key.admin,
    );
    expect(response.statusCode).toBe(400);
    expect(response.json().error.code).toBe('invalid_query');
    expect(response.json().error.details.column).toEqual(expect.any(Number));
  });

  it('answers unknown routes and incidents with 404 not_found', async () => {
    expect((await h.call('GET', '/api/nothing', h.key.admin)).json().error.code).toBe('not_found');
    const response = await h.call('GET', '/api/incidents/does-not-exist', h.key.admin);
    expect(response.statusCode).toBe(404);
  });

  it('manages keys through admin routes: shown once, stored hashed, revoked, audited', async () => {
    const created = await h.call('POST', '/api/keys', h.key.admin, {
      name: 'Sở TT&TT analyst',
      role: 'agency_analyst',
      agencies: [AGENCY_A],
    });
    expect(created.statusCode).toBe(201);
    const { key, info } = created.json();
    expect(key).toMatch(/^sl_[0-9a-f]{12}_/);
    expect((await h.call('GET', '/api/incidents', key)).statusCode).toBe(200);
    const listed = (await h.call('GET', '/api/keys', h.key.admin)).json().keys;
    expect(listed.find((k: { id: string }) => k.id === info.id)).toMatchObject({
      role: 'agency_analyst',
      agencies: [AGENCY_A],
    });
    // The secret is what follows the id; it is base64url and may hold '_' itself.
    const secret = /^sl_[0-9a-f]{12}_(.+)$/.exec(key)![1]!;
    expect(JSON.stringify(listed)).not.toContain(secret);
    const policy = await h.call('POST', '/api/keys', h.key.admin, { name: 'x', role: 'agency_analyst' });
    expect(policy.statusCode).toBe(422);
    const unknown = await h.call('POST', '/api/keys', h.key.admin, {
      name: 'x',
      role: 'analyst',
      agencies: ['nowhere'],
    });
    expect(unknown.json().error.code).toBe('unknown_agency');
    expect((await h.call('DELETE', `/api/keys/${info.id}`, h.key.admin)).statusCode).toBe(200);
    expect((await h.call('DELETE', `/api/keys/${info.id}`, h.key.admin)).statusCode).toBe(409);
    expect((await h.call('GET', '/api/incidents', key)).statusCode).toBe(401);
    await h.refresh();
    const audit = (await h.call('GET', `/api/audit?target=${info.id}`, h.key.admin)).json().entries;
    expect(audit.map((e: { action: string }) => e.action)).toEqual(['key.revoke', 'key.create']);
    expect(audit[0]).toMatchObject({ actor: 'admin', targetType: 'api_key', requestId: expect.any(String) });
  });

  it('serves an OpenAPI 3 document listing the routes', async () => {
    const response = await h.call('GET', '/openapi.json');
    expect(response.statusCode).toBe(200);
    const doc = response.json();
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/healthz',
        '/readyz',
        '/metrics',
        '/api/incidents',
        '/api/incidents/{id}',
        '/api/events',
        '/api/keys',
        '/api/audit',
      ]),
    );
  });
});

describe('first-start admin key', () => {
  it('is written once, to a 0600 file, and never again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'siem-admin-'));
    const stores = createSqliteApiStores({ path: join(dir, 'siem.sqlite') });
    await stores.keys.init();
    const keys = new ApiKeyService(stores.keys);
    const admin = await ensureAdminKey(keys, dir);
    expect(admin?.key).toMatch(/^sl_[0-9a-f]{12}_[A-Za-z0-9_-]+$/);
    expect(statSync(join(dir, 'admin.key')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, 'admin.key'), 'utf8').trim()).toBe(admin?.key);
    expect(await ensureAdminKey(keys, dir)).toBeUndefined();
    await stores.close();
    rmSync(dir, { recursive: true, force: true });
  });
});
