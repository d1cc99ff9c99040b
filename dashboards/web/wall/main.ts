/**
 * The IOC wall: the province's security health, readable from across a room. Polls GET /api/ioc/tiles
 * every 5 seconds (the tiles' max-age) with the last ETag in If-None-Match, so an unchanged picture costs a
 * 304 with no body; when polling fails the last picture stays up, marked stale with the time of the last
 * good answer. Status is always written out as words, never colour alone.
 */
import '../shared/base.css';
import './wall.css';
import { ApiClient, ApiRequestError } from '../shared/api.js';
import { h, replace, svg } from '../shared/element.js';
import { formatClock, formatDuration, formatNumber, formatPercent } from '../shared/format.js';
import { languageButton, signOutButton } from '../shared/header.js';
import { language, type MessageKey, onLanguageChange, t } from '../shared/i18n.js';
import { forgetKey, savedKey } from '../shared/session.js';
import { showSignIn } from '../shared/signin.js';
import type { Tile, TileStatus, TilesDocument } from '../shared/types.js';

const TILES = '/api/ioc/tiles';
/** The server recomputes tiles at most every 5 s (Cache-Control max-age=5): polling faster gains nothing. */
const POLL_MS = 5000;
const SEVERITIES = ['critical', 'high', 'medium', 'low'] as const;
const STATUS_RANK: Record<TileStatus, number> = { red: 0, amber: 1, green: 2 };

const root = document.getElementById('app')!;

interface WallState {
  client: ApiClient;
  tiles?: TilesDocument;
  etag?: string;
  lastSuccess?: Date;
  failing: boolean;
  timer?: number;
  stopped: boolean;
}

let state: WallState | undefined;

function start(key: string): void {
  state = { client: new ApiClient(key, signOut), failing: false, stopped: false };
  render();
  void poll(state);
}

function signOut(): void {
  if (state) {
    state.stopped = true;
    window.clearTimeout(state.timer);
  }
  state = undefined;
  forgetKey();
  signIn();
}

function signIn(): void {
  document.title = t('app.wall');
  showSignIn(root, (client) => client.get(TILES), start);
}

async function poll(current: WallState): Promise<void> {
  try {
    const answer = await current.client.getIfChanged<TilesDocument>(TILES, current.etag);
    if (current.stopped) return;
    current.lastSuccess = new Date();
    current.failing = false;
    if (answer) {
      current.tiles = answer.body;
      current.etag = answer.etag;
      render();
    } else {
      renderFreshness();
    }
  } catch (error) {
    if (current.stopped) return;
    if (error instanceof ApiRequestError && error.status === 401) return; // signed out by the client
    current.failing = true;
    renderFreshness();
  }
  if (!current.stopped) current.timer = window.setTimeout(() => void poll(current), POLL_MS);
}

function render(): void {
  if (!state) return;
  document.title = t('app.wall');
  const tiles = state.tiles;
  replace(
    root,
    h(
      'header',
      { class: 'bar' },
      h('h1', {}, t('app.wall')),
      h('p', { class: 'freshness', id: 'freshness', 'aria-live': 'polite' }),
      languageButton(),
      signOutButton(signOut),
    ),
    tiles
      ? h(
          'main',
          {},
          tiles.province ? provinceSection(tiles.province) : null,
          agenciesSection(tiles.agencies),
        )
      : h('main', {}, h('p', { class: 'waiting' }, t('wall.waiting'))),
  );
  renderFreshness();
}

function renderFreshness(): void {
  const target = document.getElementById('freshness');
  if (!target || !state) return;
  const { lastSuccess, failing } = state;
  target.classList.toggle('stale', failing);
  target.textContent = !lastSuccess
    ? t('wall.waiting')
    : failing
      ? t('wall.stale', { time: formatClock(lastSuccess) })
      : t('wall.updated', { time: formatClock(lastSuccess) });
}

function name(tile: Tile): string {
  return tile.name[language()] || tile.agency;
}

function statusBadge(status: TileStatus): HTMLElement {
  return h(
    'span',
    { class: `badge status-${status}`, 'data-testid': 'status' },
    h('span', { class: 'shape', 'aria-hidden': 'true' }),
    t(`wall.status.${status}` as MessageKey),
  );
}

function reasonList(tile: Tile): HTMLElement {
  return h(
    'ul',
    { class: 'reasons', 'data-testid': 'reasons' },
    tile.reasons.map((reason) => h('li', { 'data-code': reason.code }, reason[language()])),
  );
}

function provinceSection(tile: Tile): HTMLElement {
  return h(
    'section',
    {
      class: `province status-${tile.status}`,
      'data-testid': 'province',
      'data-status': tile.status,
      'aria-labelledby': 'province-title',
    },
    h(
      'div',
      { class: 'headline' },
      h('h2', { id: 'province-title' }, t('wall.province')),
      statusBadge(tile.status),
      reasonList(tile),
    ),
    h(
      'div',
      { class: 'metrics' },
      openIncidents(tile),
      trend(tile),
      metric(t('wall.mtta'), formatDuration(tile.mttaMs), 'mtta'),
      metric(t('wall.mttr'), formatDuration(tile.mttrMs), 'mttr'),
      metric(t('wall.silent'), formatNumber(tile.silentSources), 'silent'),
      metric(t('wall.eps'), formatNumber(tile.eventsPerSecond, 1), 'eps'),
      metric(t('wall.parseFailures'), formatPercent(tile.parseFailureRate), 'parse-failures'),
    ),
  );
}

function metric(label: string, value: string, id: string): HTMLElement {
  return h(
    'div',
    { class: 'metric', 'data-testid': id },
    h('span', { class: 'label' }, label),
    h('span', { class: 'value' }, value),
  );
}

function openIncidents(tile: Tile): HTMLElement {
  return h(
    'div',
    { class: 'metric open', 'data-testid': 'open' },
    h('span', { class: 'label' }, `${t('wall.open')}: ${formatNumber(tile.openIncidents.total)}`),
    h(
      'dl',
      { class: 'by-severity' },
      SEVERITIES.map((severity) =>
        h(
          'div',
          { class: `severity-${severity}`, 'data-severity': severity },
          h('dt', {}, t(`severity.${severity}` as MessageKey)),
          h('dd', {}, formatNumber(tile.openIncidents[severity])),
        ),
      ),
    ),
  );
}

/** 24 bars, oldest first; each bar's <title> gives its hour and count for a screen reader or a hover. */
function trend(tile: Tile): HTMLElement {
  const width = 240;
  const height = 60;
  const step = width / Math.max(tile.trend24h.length, 1);
  const max = Math.max(1, ...tile.trend24h);
  const now = new Date();
  const chart = svg('svg', {
    viewBox: `0 0 ${width} ${height}`,
    role: 'img',
    'aria-label': t('wall.trendLabel'),
    preserveAspectRatio: 'none',
  });
  tile.trend24h.forEach((count, index) => {
    const barHeight = count === 0 ? 1 : Math.max(3, (count / max) * (height - 2));
    const hour = new Date(now.getTime() - (tile.trend24h.length - 1 - index) * 3_600_000);
    const bar = svg('rect', {
      x: index * step + 1,
      y: height - barHeight,
      width: step - 2,
      height: barHeight,
      class: count === 0 ? 'bar empty' : 'bar',
    });
    bar.appendChild(svg('title'));
    bar.firstChild!.textContent = `${hour.getHours()}:00 — ${count}`;
    chart.appendChild(bar);
  });
  return h(
    'div',
    { class: 'metric trend', 'data-testid': 'trend' },
    h('span', { class: 'label' }, t('wall.trend', { n: formatNumber(tile.new24h) })),
    chart,
  );
}

function agenciesSection(agencies: Tile[]): HTMLElement {
  // Worst first, then by name: what needs the room's attention is at the top left.
  const sorted = [...agencies].sort(
    (a, b) => STATUS_RANK[a.status] - STATUS_RANK[b.status] || name(a).localeCompare(name(b), language()),
  );
  return h(
    'section',
    { class: 'agencies', 'aria-labelledby': 'agencies-title' },
    h('h2', { id: 'agencies-title' }, t('wall.agencies')),
    h(
      'ul',
      { class: 'agency-grid' },
      sorted.map((tile) =>
        h(
          'li',
          {
            class: `agency status-${tile.status}`,
            'data-testid': 'agency',
            'data-agency': tile.agency,
            'data-status': tile.status,
          },
          h('h3', {}, name(tile)),
          statusBadge(tile.status),
          tile.status === 'green' ? null : reasonList(tile),
          tile.openIncidents.total === 0
            ? null
            : h(
                'p',
                { class: 'counts' },
                `${t('wall.open')}: ${formatNumber(tile.openIncidents.total)}`,
                tile.openIncidents.critical > 0
                  ? ` · ${t('severity.critical')}: ${formatNumber(tile.openIncidents.critical)}`
                  : null,
                tile.openIncidents.high > 0
                  ? ` · ${t('severity.high')}: ${formatNumber(tile.openIncidents.high)}`
                  : null,
              ),
        ),
      ),
    ),
  );
}

onLanguageChange(() => (state ? render() : signIn()));
document.documentElement.lang = language();
const key = savedKey();
if (key) start(key);
else signIn();
