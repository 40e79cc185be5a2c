/// <reference lib="dom" />
// Mail client settings: host, ports and TLS modes, with Thunderbird and Apple downloads.

import { api, type ClientSettings, type Endpoint } from './api.js';
import { h, replaceChildren, statusLine } from './dom.js';

function rows(kind: string, list: Endpoint[]): HTMLTableRowElement[] {
  return list.map((e) =>
    h('tr', null,
      h('td', { 'data-label': 'Service' }, kind),
      h('td', { 'data-label': 'Host' }, e.host),
      h('td', { 'data-label': 'Port' }, String(e.port)),
      h('td', { 'data-label': 'Security' }, e.security === 'tls' ? 'TLS (SSL/TLS, implicit)' : 'STARTTLS'),
    ),
  );
}

export function settingsView(): HTMLElement {
  const box = h('div', null, h('p', null, 'Loading…'));
  const status = statusLine();
  void api<ClientSettings>('GET', 'clientsettings').then(
    (s) =>
      replaceChildren(box,
        h('div', { class: 'table-box' },
          h('table', { class: 'settings' },
            h('caption', { class: 'offscreen' }, 'Servers for mail clients'),
            h('thead', null, h('tr', null, ...['Service', 'Host', 'Port', 'Security'].map((t) => h('th', { scope: 'col' }, t)))),
            h('tbody', null, ...rows('IMAP (incoming)', s.imap), ...rows('SMTP submission (outgoing)', s.submission)),
          ),
        ),
        h('p', null, 'User name: ', h('strong', null, s.address), '. Authentication: your password (normal password), or a TLS client certificate registered on the keys page.'),
        s.imap.length === 0 && s.submission.length === 0 ? h('p', { class: 'hint' }, 'No IMAP or submission service with TLS is configured on this server.') : null,
        h('div', { class: 'buttons' },
          h('a', { class: 'button', href: '/account/api/clientsettings/autoconfig.xml', download: 'config-v1.1.xml' }, 'Thunderbird autoconfig (XML)'),
          h('a', { class: 'button', href: '/account/api/clientsettings/apple.mobileconfig', download: '' }, 'Apple profile (.mobileconfig)'),
        ),
      ),
    (err) => status.fail(err instanceof Error ? err.message : String(err)),
  );
  return h('section', { 'aria-labelledby': 'settings-title' }, h('h1', { id: 'settings-title' }, 'Mail client settings'), status.el, box);
}
