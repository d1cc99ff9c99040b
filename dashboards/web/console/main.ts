/**
 * The SOC console: sign in with an API key (sessionStorage only), the incident list (#/) and one incident
 * (#/incidents/<id>). Routes live in the URL's fragment, so a link to an incident can be shared; the key
 * never is. Live changes come from /api/stream and go to the view on screen.
 */
import '../shared/base.css';
import './console.css';
import { ApiClient, ApiRequestError } from '../shared/api.js';
import { h, replace } from '../shared/element.js';
import { languageButton, signOutButton } from '../shared/header.js';
import { label, language, onLanguageChange, t } from '../shared/i18n.js';
import { forgetKey, savedKey } from '../shared/session.js';
import { showSignIn, WrongRoleError } from '../shared/signin.js';
import { followIncidentChanges, type StreamState } from '../shared/stream.js';
import type { Agency, Me, Role } from '../shared/types.js';
import { agencyName, type ConsoleContext, type ConsoleView } from './context.js';
import { showDetail } from './detail.js';
import { showList } from './list.js';

const root = document.getElementById('app')!;
/** The roles the triage routes accept (api/auth.ts TRIAGE_ROLES); an ioc or ingest key cannot use the console. */
const CONSOLE_ROLES: readonly Role[] = ['admin', 'analyst', 'agency_analyst'];

let context: ConsoleContext | undefined;
let current: ConsoleView | undefined;
let stopStream: (() => void) | undefined;
let streamState: StreamState = 'connecting';

/** Who the key is, refused if its role cannot triage: asked before anything else, at sign-in and on load. */
async function whoAmI(client: ApiClient): Promise<Me> {
  const me = await client.get<Me>('/api/me');
  if (!CONSOLE_ROLES.includes(me.role)) throw new WrongRoleError(me.name, me.role);
  return me;
}

function start(key: string, me: Me): void {
  const client = new ApiClient(key, signOut);
  const view = h('main', { id: 'view' });
  context = { client, me, view, agencies: [] };
  drawFrame();
  route();
  stopStream = followIncidentChanges(
    client,
    (change) => current?.onChange(change),
    (state, reconnected) => {
      streamState = state;
      drawStreamState();
      if (reconnected) current?.refresh();
    },
  );
  // Names for the agency filter and the tables; the views work with ids until they arrive.
  void client
    .get<{ agencies: Agency[] }>('/api/agencies')
    .then(({ agencies }) => {
      if (context?.client !== client) return;
      context.agencies = agencies;
      drawIdentity();
      current?.redraw();
    })
    .catch(() => {});
}

function signOut(): void {
  stopStream?.();
  stopStream = undefined;
  current?.close();
  current = undefined;
  context = undefined;
  forgetKey();
  signIn();
}

function signIn(refusal?: unknown): void {
  document.title = t('app.console');
  showSignIn(root, whoAmI, start, refusal);
}

/** A key kept by this tab (a reload, or the wall's key in the same tab) is checked like a typed one. */
function resume(key: string): void {
  whoAmI(new ApiClient(key, signOut)).then(
    (me) => start(key, me),
    (error: unknown) => {
      // A 401 has already signed out (the client's onUnauthorized); anything else is shown on the form.
      if (error instanceof ApiRequestError && error.status === 401) return;
      signIn(error);
    },
  );
}

function drawFrame(): void {
  if (!context) return;
  replace(
    root,
    h(
      'header',
      { class: 'bar' },
      h('h1', {}, h('a', { href: '#/' }, t('app.console'))),
      h('span', { id: 'stream-state', 'data-testid': 'stream-state', 'aria-live': 'polite' }),
      h('span', { id: 'who', class: 'who', 'data-testid': 'who' }),
      languageButton(),
      signOutButton(signOut),
    ),
    context.view,
  );
  drawStreamState();
  drawIdentity();
}

/** The signed-in key: name, role and the agencies it sees (names once /api/agencies has answered). */
function drawIdentity(): void {
  const target = document.getElementById('who');
  if (!target || !context) return;
  const { me } = context;
  const scope = me.agencies
    ? me.agencies.map((id) => agencyName(context!, id)).join(', ')
    : t('who.provinceWide');
  target.title = t('who.label');
  replace(
    target,
    h('span', { class: 'who-name', 'data-testid': 'who-name' }, me.name),
    h('span', { class: 'who-role', 'data-testid': 'who-role', 'data-role': me.role }, label('role', me.role)),
    h('span', { class: 'who-scope', 'data-testid': 'who-scope' }, scope),
  );
}

function drawStreamState(): void {
  const target = document.getElementById('stream-state');
  if (!target) return;
  target.className = `stream ${streamState}`;
  target.dataset.state = streamState;
  target.textContent = t(`stream.${streamState}`);
}

function route(): void {
  if (!context) return;
  current?.close();
  const match = /^#\/incidents\/([^/?#]+)/.exec(location.hash);
  document.title = t('app.console');
  current = match ? showDetail(context, decodeURIComponent(match[1]!)) : showList(context);
  window.scrollTo(0, 0);
}

window.addEventListener('hashchange', route);
onLanguageChange(() => {
  if (!context) return signIn();
  drawFrame();
  current?.redraw();
});
document.documentElement.lang = language();
const key = savedKey();
if (key) resume(key);
else signIn();
