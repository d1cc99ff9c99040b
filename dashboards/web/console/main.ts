/**
 * The SOC console: sign in with an API key (sessionStorage only), the incident list (#/) and one incident
 * (#/incidents/<id>). Routes live in the URL's fragment, so a link to an incident can be shared; the key
 * never is. Live changes come from /api/stream and go to the view on screen.
 */
import '../shared/base.css';
import './console.css';
import { ApiClient } from '../shared/api.js';
import { h, replace } from '../shared/element.js';
import { languageButton, signOutButton } from '../shared/header.js';
import { language, onLanguageChange, t } from '../shared/i18n.js';
import { forgetKey, savedKey } from '../shared/session.js';
import { showSignIn } from '../shared/signin.js';
import { followIncidentChanges, type StreamState } from '../shared/stream.js';
import type { Agency } from '../shared/types.js';
import type { ConsoleContext, ConsoleView } from './context.js';
import { showDetail } from './detail.js';
import { showList } from './list.js';

const root = document.getElementById('app')!;

let context: ConsoleContext | undefined;
let current: ConsoleView | undefined;
let stopStream: (() => void) | undefined;
let streamState: StreamState = 'connecting';

function start(key: string): void {
  const client = new ApiClient(key, signOut);
  const view = h('main', { id: 'view' });
  context = { client, view, agencies: [] };
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

function signIn(): void {
  document.title = t('app.console');
  showSignIn(root, (client) => client.get('/api/incidents', { limit: 1 }), start);
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
      languageButton(),
      signOutButton(signOut),
    ),
    context.view,
  );
  drawStreamState();
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
if (key) start(key);
else signIn();
