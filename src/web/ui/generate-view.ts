/// <reference lib="dom" />
// Generate in the browser (spec 9): a key pair made with WebCrypto, a minimal self-signed
// certificate and a PKCS#12 file, all made here; only the certificate is sent to the server,
// which registers its public key. The private key exists only in this page and the downloads.

import { appleProfile } from '../apple-profile.js';
import { api, type ClientSettings, type SessionInfo, type TlsKey } from './api.js';
import { pem, toBase64 } from './base64.js';
import { addressSelect, downloadLink, field, h, replaceChildren, statusLine } from './dom.js';
import { withStepUp } from './step-up.js';
import { pkcs12 } from './pkcs12.js';
import { sha256 } from './sha256.js';
import { ed25519Supported, generateCertificate, type BrowserKeyType } from './x509.js';

/** A file name stem from a key name: letters, digits, dot, dash, underscore. */
export function fileStem(name: string): string {
  return name.trim().replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[-.]+|-+$/g, '') || 'postern-key';
}

export function generateView(session: SessionInfo): HTMLElement {
  const today = new Date().toISOString().slice(0, 10);
  const name = field('Name', h('input', { type: 'text', name: 'name', value: `browser ${today}`, maxlength: 256, required: true }), 'Becomes the certificate\u2019s common name and the key\u2019s name here.');
  const ed = h('option', { value: 'ed25519', disabled: true }, 'Ed25519 (checking browser support…)');
  const type = field('Key type', h('select', { name: 'keyType' }, h('option', { value: 'ecdsa-p256', selected: true }, 'ECDSA P-256 (works with most mail clients)'), ed));
  void ed25519Supported().then((ok) => {
    ed.disabled = !ok;
    ed.textContent = ok ? 'Ed25519 (small and fast; fewer mail clients accept it)' : 'Ed25519 (not supported by this browser)';
  });
  const login = field('Login address', addressSelect(session.addresses, session.address));
  const noPreauth = field('No IMAP preauth', h('input', { type: 'checkbox', name: 'noImapPreauth' }));
  const pw = field('PKCS#12 password', h('input', { type: 'password', name: 'p12password', autocomplete: 'new-password', required: true }), 'Protects the .p12 file; the mail client asks for it when importing.');
  const pw2 = field('Repeat the password', h('input', { type: 'password', name: 'p12password2', autocomplete: 'new-password', required: true }));
  const status = statusLine();
  const result = h('div', { class: 'result', 'aria-live': 'polite' });
  const button = h('button', { type: 'submit' }, 'Generate and register');
  const form = h('form', { class: 'card', novalidate: true, 'aria-labelledby': 'gen-title' }, h('h2', { id: 'gen-title' }, 'New key'), name.el, type.el, login.el, noPreauth.el, pw.el, pw2.el, button, status.el);

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    for (const f of [name, pw, pw2, login]) f.setError(null);
    status.clear();
    replaceChildren(result);
    const keyName = name.control.value.trim();
    if (!keyName) return name.setError('Enter a name.'), name.control.focus();
    if (!pw.control.value) return pw.setError('Choose a password for the PKCS#12 file.'), pw.control.focus();
    if (pw.control.value !== pw2.control.value) return pw2.setError('The passwords differ.'), pw2.control.focus();
    button.disabled = true;
    status.ok('Generating…');
    try {
      const keyType = type.control.value as BrowserKeyType;
      const gen = await generateCertificate(keyType, keyName);
      const p12 = await pkcs12(gen.pkcs8, gen.certDer, pw.control.value, keyName);
      const certPem = pem('CERTIFICATE', gen.certDer);
      // Only the certificate leaves the browser.
      // The server may ask for the current password first (step-up); the key pair waits here.
      const body = { certificate: certPem, loginAddress: login.control.value, name: keyName, noImapPreauth: noPreauth.control.checked };
      const key = await withStepUp((password) => api<TlsKey>('POST', 'tlspubkeys', password === undefined ? body : { ...body, password }));
      const stem = fileStem(keyName);
      // The Apple profile with this key is made here too: the key never goes to the server.
      const settings = await api<ClientSettings>('GET', 'clientsettings');
      const canProfile = settings.imap.length > 0 && settings.submission.length > 0;
      const profile = canProfile ? appleProfile(settings, login.control.value, { sha256, identity: { pkcs12Base64: toBase64(p12), name: keyName } }) : null;
      status.ok(`Registered “${key.name}”. Download the files now: the private key is not kept anywhere else.`);
      replaceChildren(result,
        h('p', null, 'Fingerprint: ', h('code', { class: 'fingerprint', id: 'generated-fingerprint' }, key.fingerprint)),
        h('div', { class: 'buttons' },
          downloadLink(`Download ${stem}.p12`, `${stem}.p12`, p12, 'application/x-pkcs12'),
          downloadLink(`${stem}.key.pem`, `${stem}.key.pem`, pem('PRIVATE KEY', gen.pkcs8), 'application/x-pem-file'),
          downloadLink(`${stem}.cert.pem`, `${stem}.cert.pem`, certPem, 'application/x-pem-file'),
          ...(profile ? [downloadLink(`Apple profile with this key (${stem}.mobileconfig)`, `${stem}.mobileconfig`, profile, 'application/x-apple-aspen-config')] : []),
        ),
        h('p', { class: 'hint' }, 'Import the .p12 file into your mail client (or the system keychain) and select the certificate in the account\u2019s server settings.'),
      );
      pw.control.value = '';
      pw2.control.value = '';
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      status.fail(`Could not generate and register the key: ${msg}`);
    } finally {
      button.disabled = false;
    }
  });

  return h('section', { 'aria-labelledby': 'generate-title' },
    h('h1', { id: 'generate-title' }, 'Generate a key in the browser'),
    h('p', null, 'One click makes a key pair and a self-signed certificate in this browser, registers the public key, and gives you a PKCS#12 file for your mail client. The private key is never sent to the server.'),
    form,
    result,
  );
}
