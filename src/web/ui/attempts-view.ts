/// <reference lib="dom" />
// Recent login attempts: when, how (protocol, mechanism, key name and fingerprint), from where, and
// what happened in words.

import { api, type LoginAttempt } from './api.js';
import { formatTime, h, replaceChildren, statusLine } from './dom.js';

export function attemptsView(): HTMLElement {
  const box = h('div', { class: 'table-box' }, h('p', null, 'Loading…'));
  const status = statusLine();
  const load = async () => {
    status.clear();
    try {
      const { attempts } = await api<{ attempts: LoginAttempt[] }>('GET', 'loginattempts');
      replaceChildren(box, attempts.length === 0 ? h('p', { class: 'empty' }, 'No login attempts recorded.') :
        h('table', { class: 'attempts' },
          h('caption', { class: 'offscreen' }, 'Recent login attempts, newest first'),
          h('thead', null, h('tr', null, ...['Time', 'Protocol', 'Mechanism', 'Address', 'Key', 'IP', 'Result'].map((t) => h('th', { scope: 'col' }, t)))),
          h('tbody', null, ...attempts.map((a) =>
            h('tr', { class: a.result === 'ok' ? 'ok' : 'failed' },
              h('td', { 'data-label': 'Time' }, formatTime(a.time)),
              h('td', { 'data-label': 'Protocol' }, a.protocol),
              h('td', { 'data-label': 'Mechanism' }, a.mechanism === 'tlsclientauth' ? 'TLS client certificate' : a.mechanism),
              h('td', { 'data-label': 'Address' }, a.address),
              a.keyFingerprint
                ? h('td', { 'data-label': 'Key' }, a.keyName ?? 'removed key', ' ', h('code', { class: 'fingerprint' }, a.keyFingerprint))
                : h('td', { 'data-label': 'Key' }, '-'),
              h('td', { 'data-label': 'IP' }, a.ip),
              h('td', { 'data-label': 'Result' }, a.reason),
            ),
          )),
        ));
    } catch (err) {
      status.fail(err instanceof Error ? err.message : String(err));
    }
  };
  void load();
  return h('section', { 'aria-labelledby': 'attempts-title' },
    h('h1', { id: 'attempts-title' }, 'Recent login attempts'),
    h('p', null, 'Password and key logins to this account, newest first (kept for 30 days). A key used from an unexpected address deserves a look.'),
    h('div', { class: 'buttons' }, h('button', { type: 'button', class: 'secondary', onclick: () => void load() }, 'Refresh')),
    status.el,
    box,
  );
}
