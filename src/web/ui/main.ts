/// <reference lib="dom" />
// Entry of the account pages (bundled by src/web/build-ui.ts). One page with a section per
// `#hash`: keys, generate, commands, password, attempts, settings, dmarc; the login form when there is no
// session. Works with the keyboard (real links and buttons, labelled fields, focus moved to each
// new section's heading) and on narrow screens (app.css).

import { api, setCsrfToken, whenLoggedOut, type SessionInfo } from './api.js';
import { attemptsView } from './attempts-view.js';
import { dmarcView } from './dmarc-view.js';
import { commandsView } from './commands-view.js';
import { h, replaceChildren } from './dom.js';
import { generateView } from './generate-view.js';
import { keysView } from './keys-view.js';
import { loginView } from './login-view.js';
import { passwordView } from './password-view.js';
import { settingsView } from './settings-view.js';

const SECTIONS: { id: string; label: string; view: (s: SessionInfo) => HTMLElement }[] = [
  { id: 'keys', label: 'TLS keys', view: keysView },
  { id: 'generate', label: 'Generate key', view: generateView },
  { id: 'commands', label: 'openssl commands', view: () => commandsView() },
  { id: 'password', label: 'Password', view: () => passwordView() },
  { id: 'attempts', label: 'Login attempts', view: () => attemptsView() },
  { id: 'settings', label: 'Mail clients', view: () => settingsView() },
  { id: 'dmarc', label: 'DMARC reports', view: () => dmarcView() },
];

const root = document.getElementById('app')!;
let session: SessionInfo | null = null;

function showLogin(): void {
  session = null;
  setCsrfToken('');
  document.title = 'Log in – Postern';
  replaceChildren(root, loginView((s) => start(s)));
  root.querySelector('input')?.focus();
}

function start(s: SessionInfo): void {
  session = s;
  setCsrfToken(s.csrfToken);
  render(true);
}

function currentSection() {
  const id = location.hash.replace(/^#/, '');
  return SECTIONS.find((x) => x.id === id) ?? SECTIONS[0]!;
}

function render(initial = false): void {
  if (!session) return showLogin();
  const section = currentSection();
  document.title = `${section.label} – Postern`;
  const logout = h('button', { type: 'button', class: 'secondary', onclick: async () => {
    try {
      await api('POST', 'logout');
    } finally {
      history.replaceState(null, '', '#');
      showLogin();
    }
  } }, 'Log out');
  const nav = h('nav', { 'aria-label': 'Sections' },
    h('ul', null, ...SECTIONS.map((x) => h('li', null, h('a', { href: `#${x.id}`, 'aria-current': x === section ? 'page' : null }, x.label)))),
  );
  const main = h('main', { id: 'main' }, section.view(session));
  replaceChildren(root,
    h('a', { class: 'skip', href: '#main' }, 'Skip to content'),
    h('header', null, h('span', { class: 'brand' }, 'Postern'), h('span', { class: 'who' }, session.address), logout),
    nav,
    main,
  );
  if (!initial) {
    const heading = main.querySelector('h1');
    heading?.setAttribute('tabindex', '-1');
    heading?.focus();
  }
}

window.addEventListener('hashchange', () => {
  if (location.hash === '#main') return;
  render();
});
whenLoggedOut(showLogin);

api<SessionInfo>('GET', 'session').then(start, showLogin);
