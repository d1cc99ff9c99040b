/**
 * Every route of the OpenAPI document, fed generated junk: path parameters, query strings and bodies of
 * every shape, as an admin and as a scoped analyst. No answer may be a 5xx or carry a stack trace, and
 * every 4xx carries a machine-readable code and a message.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryChangeFeed } from '../correlator/change-feed.js';
import { incident } from './testing/fixtures.js';
import { AGENCY_A, type Harness, openHarness } from './testing/harness.js';

const junkText = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constantFrom(
    '',
    ' ',
    '%00',
    '../../etc/passwd',
    'a'.repeat(5000),
    '"',
    '\\',
    '(',
    'source.ip:',
    'x:(((',
    '*',
    'NaN',
    '-1',
    '1e309',
    '2025-13-45T99:99:99Z',
    '{"a":1}',
    'new',
    'critical',
    AGENCY_A,
    'so-tttt or agency.id:*',
    'Đăng nhập',
    '\u0000',
    '\ud800',
  ),
);
const junkValue: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    junkText,
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(
      fc.oneof(junkText, fc.constantFrom('version', 'status', 'ids', 'changes', 'text', 'role', 'name')),
      tie('value'),
      {
        maxKeys: 4,
      },
    ),
  ),
})).value;
const junkQuery = fc.dictionary(
  fc.oneof(
    junkText,
    fc.constantFrom(
      'limit',
      'after',
      'q',
      'status',
      'agency',
      'from',
      'to',
      'sort',
      'order',
      'field',
      'filter',
      'format',
      'severity',
      'interval',
    ),
  ),
  fc.oneof(junkText, fc.array(junkText, { maxLength: 3 })),
  { maxKeys: 5 },
);

/** A path segment; a lone surrogate becomes the invalid UTF-8 bytes a hostile client would send. */
function encodePart(text: string): string {
  try {
    return encodeURIComponent(text);
  } catch {
    return '%ED%A0%80';
  }
}

interface Route {
  method: string;
  path: string;
}

describe('fuzzing every route', () => {
  let h: Harness;
  let routes: Route[];
  beforeAll(async () => {
    h = await openHarness('embedded', { changes: new MemoryChangeFeed() });
    await h.incidents.create(incident('fz-1', AGENCY_A));
    const doc = (await h.call('GET', '/openapi.json')).json() as {
      paths: Record<string, Record<string, unknown>>;
    };
    routes = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => ({ method: method.toUpperCase(), path })),
    );
  });
  afterAll(async () => {
    await h?.dispose();
  });

  it('covers the routes of the document', () => {
    expect(routes.length).toBeGreaterThan(20);
  });

  it('never answers 5xx or shows a stack trace, whatever the input', async () => {
    const checked = new Set<string>();
    await fc.assert(
      fc.asyncProperty(
        fc.nat(),
        fc.array(junkText, { minLength: 3, maxLength: 3 }),
        junkQuery,
        junkValue,
        fc.boolean(),
        fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded', undefined),
        async (which, params, query, body, asAdmin, contentType) => {
          const route = routes[which % routes.length]!;
          if (route.path === '/api/stream') return; // long-lived; fuzzed through its query schema below
          let i = 0;
          const path = route.path.replace(/\{[^}]+\}/g, () => encodePart(params[i++] ?? 'x'));
          const search = new URLSearchParams();
          for (const [key, value] of Object.entries(query)) {
            for (const item of Array.isArray(value) ? value : [value]) search.append(key, item);
          }
          const url = `${path}${search.size ? `?${search}` : ''}`;
          const send = route.method !== 'GET' && route.method !== 'DELETE';
          const response = await h.app.inject({
            method: route.method as 'GET',
            url,
            headers: {
              authorization: `Bearer ${asAdmin ? h.key.admin : h.key.agencyA}`,
              ...(contentType && send ? { 'content-type': contentType } : {}),
            },
            ...(send ? { payload: typeof body === 'string' ? body : (JSON.stringify(body) ?? '') } : {}),
          });
          checked.add(`${route.method} ${route.path}`);
          expect(response.statusCode, `${route.method} ${url}`).toBeLessThan(500);
          expect(response.body).not.toMatch(/\n\s+at .+:\d+:\d+/);
          if (response.statusCode >= 400) {
            const error = response.json().error;
            expect(error.code, `${route.method} ${url}`).toMatch(/^[a-z_]+$/);
            expect(error.message).toEqual(expect.any(String));
          }
        },
      ),
      { numRuns: 600, seed: 7 },
    );
    expect(checked.size).toBeGreaterThan(15);
  }, 120_000);

  it('refuses junk stream filters with 400 before opening the stream', async () => {
    for (const query of ['severity=extreme', 'agency=%00', 'unknown=1']) {
      const response = await h.call('GET', `/api/stream?${query}`, h.key.admin);
      expect(response.statusCode).toBe(400);
    }
  });
});
