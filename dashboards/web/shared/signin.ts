/**
 * The sign-in form both pages show when the tab holds no key: the key is checked with one real call of the
 * page (`probe`), so a key of the wrong role is refused here rather than failing later, then kept in
 * sessionStorage. The form is a POST-less form: submitting never puts the key in the URL.
 */
import { ApiClient, ApiRequestError } from './api.js';
import { h, replace } from './element.js';
import { label, t } from './i18n.js';
import { cleanKey, saveKey } from './session.js';

/** A probe's refusal of a valid key whose role cannot use the page (read from GET /api/me). */
export class WrongRoleError extends Error {
  constructor(
    readonly keyName: string,
    readonly role: string,
  ) {
    super(`role ${role} cannot use this page`);
    this.name = 'WrongRoleError';
  }
}

/** What the form says about a probe that failed. */
export function signInMessage(error: unknown): string {
  if (error instanceof WrongRoleError) {
    return t('signin.wrongRole', { name: error.keyName, role: label('role', error.role) });
  }
  if (error instanceof ApiRequestError) {
    if (error.status === 401) return t('signin.rejected');
    if (error.status === 403) return t('signin.forbidden');
    return t('error.generic', { message: error.message });
  }
  return t('signin.failed', { message: String((error as Error).message ?? error) });
}

/**
 * `probe`'s answer goes to `onSignedIn` with the key, so the page need not ask again; `refusal` is shown at
 * once (a saved key found unusable when the page loaded).
 */
export function showSignIn<T>(
  root: HTMLElement,
  probe: (client: ApiClient) => Promise<T>,
  onSignedIn: (key: string, probed: T) => void,
  refusal?: unknown,
): void {
  const input = h('input', {
    id: 'api-key',
    name: 'api-key',
    type: 'password',
    autocomplete: 'off',
    spellcheck: false,
    required: true,
    'aria-describedby': 'api-key-help',
  });
  const message = h(
    'p',
    { class: 'form-error', role: 'alert' },
    refusal === undefined ? null : signInMessage(refusal),
  );
  const submit = h('button', { type: 'submit' }, t('signin.submit'));
  const form = h(
    'form',
    {
      class: 'signin',
      onsubmit: async (event: Event) => {
        event.preventDefault();
        const key = cleanKey(input.value);
        if (!key) {
          message.textContent = t('signin.invalidFormat');
          return;
        }
        submit.disabled = true;
        message.textContent = '';
        try {
          const probed = await probe(new ApiClient(key));
          saveKey(key);
          onSignedIn(key, probed);
        } catch (error) {
          message.textContent = signInMessage(error);
        } finally {
          submit.disabled = false;
        }
      },
    },
    h('h2', {}, t('signin.title')),
    h('label', { for: 'api-key' }, t('signin.key')),
    input,
    h('p', { id: 'api-key-help', class: 'help' }, t('signin.keyHelp')),
    message,
    submit,
  );
  replace(root, form);
  input.focus();
}
