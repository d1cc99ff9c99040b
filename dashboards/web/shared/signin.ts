/**
 * The sign-in form both pages show when the tab holds no key: the key is checked with one real call of the
 * page (`probe`), so a key of the wrong role is refused here rather than failing later, then kept in
 * sessionStorage. The form is a POST-less form: submitting never puts the key in the URL.
 */
import { ApiClient, ApiRequestError } from './api.js';
import { h, replace } from './element.js';
import { t } from './i18n.js';
import { cleanKey, saveKey } from './session.js';

export function showSignIn(
  root: HTMLElement,
  probe: (client: ApiClient) => Promise<unknown>,
  onSignedIn: (key: string) => void,
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
  const message = h('p', { class: 'form-error', role: 'alert' });
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
          await probe(new ApiClient(key));
          saveKey(key);
          onSignedIn(key);
        } catch (error) {
          message.textContent =
            error instanceof ApiRequestError
              ? error.status === 401
                ? t('signin.rejected')
                : error.status === 403
                  ? t('signin.forbidden')
                  : t('error.generic', { message: error.message })
              : t('signin.failed', { message: String((error as Error).message ?? error) });
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
