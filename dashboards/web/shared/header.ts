/** The page header both pages share: title, language switch, sign-out. */
import { h } from './element.js';
import { language, setLanguage, t } from './i18n.js';

export function languageButton(): HTMLButtonElement {
  return h(
    'button',
    {
      type: 'button',
      class: 'language',
      'data-testid': 'language',
      'aria-label': t('language.switchLabel'),
      lang: language() === 'vi' ? 'en' : 'vi',
      onclick: () => setLanguage(language() === 'vi' ? 'en' : 'vi'),
    },
    t('language.switch'),
  );
}

export function signOutButton(onSignOut: () => void): HTMLButtonElement {
  return h('button', { type: 'button', class: 'signout', onclick: onSignOut }, t('signout'));
}
