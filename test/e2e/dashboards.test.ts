/**
 * The web pages in a real browser (Debian's Chromium, driven by playwright-core; tools/browser.sh checks it
 * is installed) against a real `serve` in embedded mode: the pages are built from source with Vite into a
 * temporary folder, ten sshd failures over TCP syslog open an SSH Brute Force incident, and the analyst and
 * the IOC wall see it through the pages exactly as a user would.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunningService } from '../../bin/commands/serve.js';
import { buildDashboards } from '../../dashboards/build.js';
import type {
  Agency,
  IncidentDetail,
  IncidentPage,
  TilesDocument,
} from '../../dashboards/web/shared/types.js';
import { serveEmbedded } from '../support/embedded-serve.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ATTACKER = '203.0.113.77';
const BRUTE_FORCE = 'd10613ff-c77f-4b3d-a40c-cbc0d0a9d789';

describe('dashboards in a real browser (embedded serve)', () => {
  let dir: string;
  let service: RunningService;
  let browser: Browser;
  let adminKey: string;
  let incidentId: string;
  const keys = { analyst: '', ioc: '' };
  const pages: Page[] = [];
  /** Console errors and CSP violations of every page: a page that breaks its own policy fails the test. */
  const browserErrors: string[] = [];

  /** The API as a client sees it; T is the answer's documented shape (dashboards/web/shared/types.ts). */
  const api = async <T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown,
    key = adminKey,
  ) => {
    const response = await fetch(`${service.apiUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: response.status, headers: response.headers, body: (await response.json()) as T };
  };

  const waitFor = async <T>(probe: () => Promise<T | undefined>, what: string, ms = 20_000): Promise<T> => {
    const deadline = Date.now() + ms;
    for (;;) {
      const value = await probe();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

  /** RFC 5424 over TCP (octet-counted framing), as rsyslog forwards. */
  const sendFailures = async (ip: string, count: number) => {
    const frames = Array.from({ length: count }, (_, i) => {
      const line = `<38>1 ${new Date().toISOString()} web01 sshd 4242 - - Failed password for root from ${ip} port ${41000 + i} ssh2`;
      return `${Buffer.byteLength(line)} ${line}`;
    });
    await new Promise<void>((resolve, reject) => {
      const socket = connect(service.listeners[0]!.port, '127.0.0.1', () => socket.end(frames.join('')));
      socket.on('close', () => resolve());
      socket.on('error', reject);
    });
  };

  const openPage = async (path: string): Promise<Page> => {
    const page = await browser.newPage();
    pages.push(page);
    page.on('console', (message) => {
      // Failed loads are recorded with their address below; the console's copy has none.
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) {
        browserErrors.push(`${path}: ${message.text()}`);
      }
    });
    page.on('response', (response) => {
      if (response.status() >= 400) browserErrors.push(`${path}: ${response.status()} ${response.url()}`);
    });
    page.on('pageerror', (error) => browserErrors.push(`${path}: ${error.message}`));
    await page.goto(`${service.apiUrl}${path}`);
    return page;
  };

  const signIn = async (page: Page, key: string) => {
    await page.locator('#api-key').fill(key);
    await page.locator('form.signin button[type=submit]').click();
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'siem-dashboards-'));
    // Built from source for this run, so the test never drives stale assets in dist/.
    process.env.DASHBOARDS_DIR = await buildDashboards(join(dir, 'web'));
    let started: Awaited<ReturnType<typeof serveEmbedded>>;
    [started, browser] = await Promise.all([
      serveEmbedded(dir),
      chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] }),
    ]);
    ({ service, adminKey } = started);
    for (const role of ['analyst', 'ioc'] as const) {
      const created = await api<{ key: string }>('POST', '/api/keys', { name: `dashboard ${role}`, role });
      expect(created.status).toBe(201);
      keys[role] = created.body.key;
    }
    await sendFailures(ATTACKER, 10);
    incidentId = await waitFor(async () => {
      const { body } = await api<IncidentPage>('GET', `/api/incidents?rule=${BRUTE_FORCE}`);
      return body.total === 1 ? body.incidents[0]!.id : undefined;
    }, 'the brute-force incident');
  });

  afterEach(async () => {
    for (const page of pages.splice(0)) await page.close();
    expect(browserErrors.splice(0)).toEqual([]);
  });

  afterAll(async () => {
    await browser?.close();
    await service?.close();
    delete process.env.DASHBOARDS_DIR;
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves the pages without a key, under a CSP stricter than the API’s', async () => {
    const page = await fetch(`${service.apiUrl}/wall/`);
    expect(page.status).toBe(200);
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(page.headers.get('cache-control')).toBe('no-cache');
    // The API keeps its own policy and its key.
    const apiAnswer = await fetch(`${service.apiUrl}/api/incidents`);
    expect(apiAnswer.status).toBe(401);
    expect(apiAnswer.headers.get('content-security-policy')).toContain("style-src 'self' 'unsafe-inline'");
    expect((await fetch(`${service.apiUrl}/wall`, { redirect: 'manual' })).status).toBe(301);
  });

  it('wall: signs in with an IOC key, shows the tiles, and polls with 304s', async () => {
    const expected = (await api<TilesDocument>('GET', '/api/ioc/tiles', undefined, keys.ioc)).body;
    const province = expected.province!;
    const statuses: number[] = [];
    const page = await openPage('/wall/');
    page.on('response', (response) => {
      if (response.url().endsWith('/api/ioc/tiles')) statuses.push(response.status());
    });
    await signIn(page, keys.ioc);

    const provinceTile = page.getByTestId('province');
    await expect.poll(() => provinceTile.getAttribute('data-status')).toBe(province.status);
    // Vietnamese by default: the status in words and the server's reasons in Vietnamese.
    await expect
      .poll(() => provinceTile.getByTestId('reasons').textContent())
      .toContain(province.reasons[0]!.vi);
    const open = province.openIncidents;
    expect(open.high).toBeGreaterThanOrEqual(1);
    expect(await provinceTile.locator('[data-severity=high] dd').textContent()).toBe(String(open.high));
    expect(await provinceTile.getByTestId('trend').locator('rect').count()).toBe(24);
    const agency = page.locator('[data-testid=agency][data-agency=so-tttt]');
    expect(await agency.getAttribute('data-status')).toBe(
      expected.agencies.find((tile) => tile.agency === 'so-tttt')!.status,
    );
    expect(await page.getByTestId('agency').count()).toBe(expected.agencies.length);

    await page.getByTestId('language').click();
    await expect
      .poll(() => provinceTile.getByTestId('reasons').textContent())
      .toContain(province.reasons[0]!.en);
    expect(await page.locator('h2#province-title').textContent()).toBe('Province');

    // Nothing changed: the next polls carry the ETag and are answered 304.
    await expect.poll(() => statuses.includes(304), { timeout: 15_000 }).toBe(true);
    expect(statuses[0]).toBe(200);

    // The network to the API fails: the picture stays up, marked stale; it recovers when the API answers.
    await page.route('**/api/ioc/tiles', (route) => route.abort('connectionrefused'));
    const freshness = page.locator('#freshness');
    await expect.poll(() => freshness.getAttribute('class'), { timeout: 15_000 }).toContain('stale');
    expect(await freshness.textContent()).toContain('Stale');
    expect(await provinceTile.getAttribute('data-status')).toBe(province.status);
    await page.unroute('**/api/ioc/tiles');
    await expect.poll(() => freshness.getAttribute('class'), { timeout: 15_000 }).not.toContain('stale');
    // The browser reports the refused connections it was made to see; nothing else.
    expect(browserErrors.splice(0).filter((line) => !line.includes('ERR_CONNECTION_REFUSED'))).toEqual([]);
    // The key stays in sessionStorage, never in a URL.
    expect(page.url()).toBe(`${service.apiUrl}/wall/`);
    expect(await page.evaluate("sessionStorage.getItem('siem-lite.apiKey')")).toBe(keys.ioc);
    expect(await page.evaluate("localStorage.getItem('siem-lite.apiKey')")).toBeNull();
  });

  it('wall: refuses a key that is not a key, and an unknown one', async () => {
    const page = await openPage('/wall/');
    await signIn(page, 'not a key');
    await expect.poll(() => page.locator('.form-error').textContent()).toContain('sl_');
    await signIn(page, 'sl_0123456789ab_notTheRightSecret');
    await expect.poll(() => page.locator('.form-error').textContent()).toContain('thu hồi');
    expect(await page.getByTestId('province').count()).toBe(0);
    // The browser logs the 401 it received; that is the only error expected.
    expect(browserErrors.splice(0).filter((line) => !line.includes('401'))).toEqual([]);
  });

  it('console: refuses a key of another role (the IOC key) from its /api/me role, typed or kept by the tab', async () => {
    const page = await openPage('/console/');
    const asked: string[] = [];
    page.on('request', (request) => asked.push(new URL(request.url()).pathname));
    await signIn(page, keys.ioc);
    const refusal = page.locator('.form-error');
    await expect.poll(() => refusal.textContent()).toContain('vai trò Màn hình IOC');
    expect(await refusal.textContent()).toContain('dashboard ioc');
    // Refused from who the key is, not from a failing list call: no 403 and no incident read.
    expect(asked.filter((path) => path.startsWith('/api/'))).toEqual(['/api/me']);
    expect(await page.evaluate("sessionStorage.getItem('siem-lite.apiKey')")).toBeNull();

    // The wall's key left in this tab's sessionStorage: the console checks it on load the same way.
    await page.evaluate(`sessionStorage.setItem('siem-lite.apiKey', ${JSON.stringify(keys.ioc)})`);
    await page.reload();
    await expect.poll(() => page.locator('.form-error').textContent()).toContain('vai trò Màn hình IOC');
    expect(await page.locator('#api-key').count()).toBe(1);
  });

  it('console: signs in, lists the incident, filters, and opens it with evidence, chain and timeline', async () => {
    const page = await openPage('/console/');
    await signIn(page, keys.analyst);
    const row = page.locator(`[data-testid=incident-row][data-id="${incidentId}"]`);
    await expect.poll(() => row.count()).toBe(1);
    expect(await row.textContent()).toContain('SSH Brute Force');
    await expect.poll(() => page.getByTestId('stream-state').getAttribute('data-state')).toBe('live');
    // The header names the signed-in key, its role and its scope (from /api/me).
    expect(await page.getByTestId('who-name').textContent()).toBe('dashboard analyst');
    expect(await page.getByTestId('who-role').getAttribute('data-role')).toBe('analyst');
    expect(await page.getByTestId('who-role').textContent()).toBe('Phân tích viên');
    expect(await page.getByTestId('who-scope').textContent()).toBe('toàn tỉnh');

    // A filter that excludes it, then back.
    await page.locator('input[name=severity][value=critical]').check();
    await page.locator('form.filters button[type=submit]').click();
    await expect.poll(() => page.getByTestId('empty').count()).toBe(1);
    await page.locator('input[name=severity][value=critical]').uncheck();
    await page.locator('input[name=q]').fill(incidentId);
    await page.locator('form.filters button[type=submit]').click();
    await expect.poll(() => page.getByTestId('incident-row').count()).toBe(1);

    await row.locator('a').click();
    expect(page.url()).toBe(`${service.apiUrl}/console/#/incidents/${incidentId}`);
    await expect.poll(() => page.getByTestId('evidence-row').count()).toBe(10);
    expect(await page.getByTestId('evidence').textContent()).toContain(ATTACKER);
    expect(await page.getByTestId('detection-row').count()).toBeGreaterThanOrEqual(1);
    expect(await page.locator('[data-testid=timeline] li[data-action=opened]').count()).toBe(1);
    expect(await page.getByTestId('incident-status').getAttribute('data-status')).toBe('new');

    // English on demand.
    await page.getByTestId('language').click();
    await expect.poll(() => page.getByTestId('timeline').textContent()).toContain('opened');
    expect(await page.locator('[data-action=acknowledged]').textContent()).toBe('Acknowledge');
    expect(await page.getByTestId('who-role').textContent()).toBe('Analyst');
    expect(await page.getByTestId('who-scope').textContent()).toBe('province-wide');
    expect(page.url()).not.toContain(keys.analyst);
  });

  it('console: triage carries the version; a stale one shows the 409 state, and a retry succeeds', async () => {
    const page = await openPage(`/console/#/incidents/${incidentId}`);
    await signIn(page, keys.analyst);
    await expect.poll(() => page.getByTestId('incident-status').getAttribute('data-status')).toBe('new');

    // Acknowledge: the status changes, on the page and in the store.
    await page.locator('[data-action=acknowledged]').click();
    await expect
      .poll(() => page.getByTestId('incident-status').getAttribute('data-status'))
      .toBe('acknowledged');
    expect(await page.getByTestId('saved').count()).toBe(1);
    const read = (await api<IncidentDetail>('GET', `/api/incidents/${incidentId}`)).body;
    expect(read.incident.status).toBe('acknowledged');
    expect(read.incident.timeline.at(-1)).toMatchObject({
      action: 'status_changed',
      actor: 'dashboard analyst',
    });

    // Another analyst assigns it meanwhile (through the API, at the version the page holds).
    const other = await api('PATCH', `/api/incidents/${incidentId}`, {
      version: read.version,
      assignee: 'binh.tran',
    });
    expect(other.status).toBe(200);
    // The page hears of it from the stream, but keeps what the analyst sees until they reload.
    await expect.poll(() => page.getByTestId('changed-elsewhere').count()).toBe(1);

    // Acting on the stale version: 409, and the page shows the incident as it now is.
    await page.locator('#reason').fill('contained');
    await page.locator('[data-action=in_progress]').click();
    const conflict = page.getByTestId('conflict');
    await expect.poll(() => conflict.count()).toBe(1);
    expect(await conflict.textContent()).toContain('binh.tran');
    expect((await api<IncidentDetail>('GET', `/api/incidents/${incidentId}`)).body.incident.status).toBe(
      'acknowledged',
    );
    expect(browserErrors.splice(0).filter((line) => !line.includes('409'))).toEqual([]);

    // Retry on the new version: saved, and the other analyst's assignment kept.
    await conflict.locator('button.primary').click();
    await expect
      .poll(() => page.getByTestId('incident-status').getAttribute('data-status'))
      .toBe('in_progress');
    const after = (await api<IncidentDetail>('GET', `/api/incidents/${incidentId}`)).body.incident;
    expect(after).toMatchObject({ status: 'in_progress', assignee: 'binh.tran' });
    expect(after.timeline.at(-1)!.detail).toMatchObject({ reason: 'contained' });

    // A note and an assignment.
    await page.locator('#note').fill('Đã chặn địa chỉ trên tường lửa.');
    await page.locator('[data-action=note]').click();
    await expect.poll(() => page.getByTestId('notes').textContent()).toContain('Đã chặn địa chỉ');
    await page.locator('#assignee').fill('an.nguyen');
    await page.locator('[data-action=assign]').click();
    await expect
      .poll(async () => (await page.getByTestId('summary').textContent()) ?? '')
      .toContain('an.nguyen');
    await page.locator('[data-action=resolved]').click();
    await expect.poll(() => page.getByTestId('incident-status').getAttribute('data-status')).toBe('resolved');
    const closed = (await api<IncidentDetail>('GET', `/api/incidents/${incidentId}`)).body.incident;
    expect(closed).toMatchObject({ status: 'resolved', assignee: 'an.nguyen' });
    expect(closed.notes?.map((note) => note.text)).toEqual(['Đã chặn địa chỉ trên tường lửa.']);
  });

  it('console: "assign to me" assigns under the key’s name, and "assigned to me" lists it', async () => {
    const name = 'Trần Bình (Sở TT&TT)';
    const created = await api<{ key: string }>('POST', '/api/keys', {
      name,
      role: 'agency_analyst',
      agencies: ['so-tttt'],
    });
    const { agencies } = (await api<{ agencies: Agency[] }>('GET', '/api/agencies')).body;
    const agency = agencies.find((candidate) => candidate.id === 'so-tttt')!;
    const page = await openPage('/console/');
    const listQueries: URLSearchParams[] = [];
    page.on('request', (request) => {
      const url = new URL(request.url());
      if (url.pathname === '/api/incidents') listQueries.push(url.searchParams);
    });
    await signIn(page, created.body.key);
    await expect.poll(() => page.getByTestId('who-scope').textContent()).toBe(agency.name.vi);
    expect(await page.getByTestId('who-name').textContent()).toBe(name);

    // Every status, assigned to me: nothing yet (the incident is assigned to someone else).
    await page.locator('form.filters button[type=button]').click();
    await page.locator('input[name=mine]').check();
    await page.locator('form.filters button[type=submit]').click();
    await expect.poll(() => page.getByTestId('empty').count()).toBe(1);
    expect(listQueries.at(-1)?.get('assignee')).toBe(name);

    await page.goto(`${service.apiUrl}/console/#/incidents/${incidentId}`);
    const assignMe = page.locator('[data-action=assign-me]');
    await expect.poll(() => assignMe.isEnabled()).toBe(true);
    await assignMe.click();
    // The button is also disabled while the request runs: wait for the answer, not for the button.
    await expect.poll(() => assignMe.isDisabled()).toBe(true);
    await expect.poll(() => page.getByTestId('summary').textContent()).toContain(name);
    const assigned = (await api<IncidentDetail>('GET', `/api/incidents/${incidentId}`)).body.incident;
    expect(assigned.assignee).toBe(name);
    expect(assigned.timeline.at(-1)).toMatchObject({ action: 'assigned', actor: name });

    // Back to the list: the remembered filter now finds it.
    await page.goto(`${service.apiUrl}/console/#/`);
    await expect.poll(() => page.getByTestId('incident-row').count()).toBe(1);
    expect(await page.getByTestId('incident-row').getAttribute('data-id')).toBe(incidentId);
    expect(await page.locator('input[name=mine]').isChecked()).toBe(true);
  });

  it('console: a new incident appears in the list live, from the stream', async () => {
    const page = await openPage('/console/');
    await signIn(page, keys.analyst);
    await expect.poll(() => page.getByTestId('stream-state').getAttribute('data-state')).toBe('live');
    const before = await page.getByTestId('incident-row').count();
    await sendFailures('203.0.113.78', 10);
    await expect.poll(() => page.getByTestId('incident-row').count(), { timeout: 20_000 }).toBe(before + 1);
    expect(await page.getByTestId('notice').textContent()).toContain('SSH Brute Force');
  });

  it('wall: a key bound to one agency sees that agency only, and no province tile', async () => {
    const created = await api<{ key: string }>('POST', '/api/keys', {
      name: 'district wall',
      role: 'ioc',
      agencies: ['so-tttt'],
    });
    const page = await openPage('/wall/');
    await signIn(page, created.body.key);
    await expect.poll(() => page.getByTestId('agency').count()).toBe(1);
    expect(await page.getByTestId('agency').getAttribute('data-agency')).toBe('so-tttt');
    expect(await page.getByTestId('province').count()).toBe(0);
  });

  it('console: pages through the list with the API’s cursor', async () => {
    // Open incidents so far: the live one (the triaged one is resolved). 25 more make two pages of 25.
    const frames = Array.from({ length: 25 }, (_, i) => sendFailures(`198.51.100.${i + 1}`, 10));
    await Promise.all(frames);
    await waitFor(async () => {
      const { body } = await api<IncidentPage>('GET', '/api/incidents?status=new&limit=1');
      return body.total === 26 ? true : undefined;
    }, 'the 26 open incidents');
    const page = await openPage('/console/');
    await signIn(page, keys.analyst);
    const rows = page.getByTestId('incident-row');
    await expect.poll(() => rows.count()).toBe(25);
    expect(await page.getByTestId('total').textContent()).toContain('26');
    await page.locator('.pager button').last().click();
    await expect.poll(() => rows.count()).toBe(1);
    expect(await page.locator('.pager span').textContent()).toBe('Trang 2');
    expect(await page.locator('.pager button').last().isDisabled()).toBe(true);
    await page.locator('.pager button').first().click();
    await expect.poll(() => rows.count()).toBe(25);
  });
});
