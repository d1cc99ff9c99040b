/**
 * The pages as the API serves them, without a browser (test/e2e/dashboards.test.ts drives them in one): no
 * key needed, the pages' own CSP, caching by file kind, the redirect to the trailing slash, and a clear
 * 503 for a page that was never built — all on the real API server over real (SQLite) stores.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, openHarness } from '../api/testing/harness.js';

describe('dashboard routes', () => {
  let dir: string;
  let harness: Harness;

  beforeAll(async () => {
    // Only the wall is "built" here: the console shows what an unbuilt page answers.
    dir = mkdtempSync(join(tmpdir(), 'siem-pages-'));
    mkdirSync(join(dir, 'wall', 'assets'), { recursive: true });
    writeFileSync(join(dir, 'wall', 'index.html'), '<!doctype html><title>wall</title>');
    writeFileSync(join(dir, 'wall', 'assets', 'index-abc123.js'), 'console.log(1)');
    harness = await openHarness('embedded', { dashboards: { assetsDir: dir } });
  });
  afterAll(async () => {
    await harness?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves a page without a key, under a policy of this origin only, revalidated every time', async () => {
    const page = await harness.call('GET', '/wall/');
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('<title>wall</title>');
    expect(page.headers['cache-control']).toBe('no-cache');
    const csp = String(page.headers['content-security-policy']);
    for (const directive of [
      "default-src 'self'",
      "script-src 'self'",
      "style-src 'self'",
      "img-src 'self'",
    ]) {
      expect(csp).toContain(directive);
    }
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('upgrade-insecure-requests');
  });

  it('caches hashed assets for good', async () => {
    const asset = await harness.call('GET', '/wall/assets/index-abc123.js');
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
  });

  it('redirects the bare prefix to the page', async () => {
    const bare = await harness.call('GET', '/wall');
    expect(bare.statusCode).toBe(301);
    expect(bare.headers.location).toBe('/wall/');
  });

  it('answers 503 with the API’s error body for a page that is not built', async () => {
    const missing = await harness.call('GET', '/console/');
    expect(missing.statusCode).toBe(503);
    expect(missing.json()).toMatchObject({ error: { code: 'not_built' } });
  });

  it('leaves the API its own policy and its keys', async () => {
    const anonymous = await harness.call('GET', '/api/incidents');
    expect(anonymous.statusCode).toBe(401);
    expect(String(anonymous.headers['content-security-policy'])).toContain(
      "style-src 'self' 'unsafe-inline'",
    );
    // A path out of the page's folder finds nothing: the API's 404, never a file of the checkout.
    const outside = await harness.call('GET', '/wall/assets/..%2f..%2f..%2fpackage.json');
    expect(outside.statusCode).toBe(404);
    expect(outside.json()).toMatchObject({ error: { code: 'not_found' } });
  });
});
