/// <reference lib="dom" />
// Suggested openssl commands (spec 9) to make a key, a minimal self-signed certificate with a long
// validity and a PKCS#12 file, with the chosen name filled in, and a copy button.

import { copyText, field, h, replaceChildren } from './dom.js';
import { fileStem } from './generate-view.js';

/** A shell word in single quotes ('\'' for a quote inside). */
function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** openssl -subj value: '/' and '\' in a value are escaped with a backslash. */
function subject(cn: string): string {
  return `/CN=${cn.replace(/[\\/]/g, (c) => `\\${c}`)}`;
}

export function opensslCommands(name: string, type: 'ed25519' | 'ecdsa-p256'): string {
  const stem = fileStem(name);
  const genkey = type === 'ed25519' ? `openssl genpkey -algorithm ed25519 -out ${stem}.key.pem` : `openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ${stem}.key.pem`;
  return [
    '# 1. the private key (keep it secret)',
    genkey,
    '# 2. a minimal self-signed certificate, valid for 100 years',
    `openssl req -new -x509 -key ${stem}.key.pem -subj ${shellQuote(subject(name))} -days 36500 -out ${stem}.cert.pem`,
    '# 3. a PKCS#12 file for mail clients (asks for a password);',
    '#    add -legacy for clients that cannot import modern PKCS#12 (older macOS/iOS, Windows, OpenSSL 1.x)',
    `openssl pkcs12 -export -inkey ${stem}.key.pem -in ${stem}.cert.pem -name ${shellQuote(name)} -out ${stem}.p12`,
    `# then add ${stem}.cert.pem on the TLS public keys page (the certificate only, never the key)`,
  ].join('\n');
}

export function commandsView(): HTMLElement {
  const name = field('Key name', h('input', { type: 'text', name: 'name', value: 'laptop', maxlength: 256 }), 'Used as the certificate\u2019s common name and the file names.');
  const type = field('Key type', h('select', { name: 'keyType' }, h('option', { value: 'ecdsa-p256' }, 'ECDSA P-256 (works with most mail clients)'), h('option', { value: 'ed25519' }, 'Ed25519')));
  const pre = h('pre', { class: 'commands', tabindex: 0, 'aria-label': 'Commands' });
  const copied = h('span', { class: 'hint', role: 'status' });
  const update = () => {
    pre.textContent = opensslCommands(name.control.value.trim() || 'key', type.control.value as 'ed25519' | 'ecdsa-p256');
    copied.textContent = '';
  };
  name.control.addEventListener('input', update);
  type.control.addEventListener('change', update);
  update();
  const copy = h('button', { type: 'button', onclick: async () => replaceChildren(copied, (await copyText(pre.textContent ?? '')) ? 'Copied.' : 'Copy failed: select the text and copy it.') }, 'Copy commands');
  return h('section', { 'aria-labelledby': 'commands-title' },
    h('h1', { id: 'commands-title' }, 'Make a key with openssl'),
    h('p', null, 'Prefer your own machine? These commands make a key pair and a certificate locally. Only the public key identifies you: no validity dates or names are checked.'),
    h('div', { class: 'card' }, name.el, type.el, pre, h('div', { class: 'buttons' }, copy, copied)),
  );
}
