/// <reference lib="dom" />
// TLS public keys (spec 9): the table, adding a certificate (file or pasted PEM), editing name,
// login address and no-IMAP-preauth, and removing with confirmation.

import { api, ApiError, type SessionInfo, type TlsKey } from './api.js';
import { toBase64 } from './base64.js';
import { addressSelect, field, formatTime, h, replaceChildren, statusLine, type Field } from './dom.js';
import { modal } from './modal.js';
import { withStepUp } from './step-up.js';

const PRIVATE_KEY_TEXT = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/;
export const PRIVATE_KEY_MESSAGE = 'This is a private key, not a certificate: it was not sent. Keep it secret and choose the certificate (.crt / .cert.pem) instead.';

function showFieldError(err: unknown, fields: Record<string, Field<HTMLElement & { focus(): void }>>, status: ReturnType<typeof statusLine>): void {
  const msg = err instanceof Error ? err.message : String(err);
  const f = err instanceof ApiError && err.field ? fields[err.field] : undefined;
  if (f) {
    f.setError(msg);
    f.control.focus();
  } else status.fail(msg);
}

export function keysView(session: SessionInfo): HTMLElement {
  const tableBox = h('div', { class: 'table-box' }, h('p', null, 'Loading…'));
  const tableStatus = statusLine();

  const refresh = async () => {
    try {
      const { keys } = await api<{ keys: TlsKey[] }>('GET', 'tlspubkeys');
      replaceChildren(tableBox, keys.length === 0 ? h('p', { class: 'empty' }, 'No TLS public keys yet. Add one below, or generate one in the browser.') : keyTable(keys));
    } catch (err) {
      tableStatus.fail(err instanceof Error ? err.message : String(err));
    }
  };

  const keyTable = (keys: TlsKey[]) =>
    h('table', { class: 'keys' },
      h('caption', { class: 'offscreen' }, 'TLS public keys of your account'),
      h('thead', null, h('tr', null, ...['Name', 'Login address', 'Type', 'No IMAP preauth', 'Fingerprint', 'Created', 'Last used', 'Actions'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', null, ...keys.map((k) =>
        h('tr', { 'data-fingerprint': k.fingerprint },
          h('td', { 'data-label': 'Name' }, k.name),
          h('td', { 'data-label': 'Login address' }, k.loginAddress),
          h('td', { 'data-label': 'Type' }, k.type),
          h('td', { 'data-label': 'No IMAP preauth', class: 'preauth' }, k.noImapPreauth ? 'yes' : 'no'),
          h('td', { 'data-label': 'Fingerprint' }, h('code', { class: 'fingerprint' }, k.fingerprint)),
          h('td', { 'data-label': 'Created' }, formatTime(k.created)),
          h('td', { 'data-label': 'Last used' }, k.lastUsed ? `${formatTime(k.lastUsed)} from ${k.lastUsedIp ?? '?'}` : 'never'),
          h('td', { 'data-label': 'Actions', class: 'actions' },
            h('button', { type: 'button', class: 'secondary', 'aria-label': `Edit ${k.name}`, onclick: () => void edit(k) }, 'Edit'),
            h('button', { type: 'button', class: 'danger', 'aria-label': `Remove ${k.name}`, onclick: () => void remove(k) }, 'Remove'),
          ),
        ),
      )),
    );

  const edit = async (k: TlsKey) => {
    const name = field('Name', h('input', { type: 'text', name: 'name', value: k.name, maxlength: 256, required: true }));
    const login = field('Login address', addressSelect(session.addresses.includes(k.loginAddress) ? session.addresses : [k.loginAddress, ...session.addresses], k.loginAddress));
    const noPreauth = field('No IMAP preauth', h('input', { type: 'checkbox', name: 'noImapPreauth', checked: k.noImapPreauth }), 'IMAP clients must then log in with AUTHENTICATE EXTERNAL instead of being logged in at connect.');
    const status = statusLine();
    const { dialog, result } = modal(`Edit key “${k.name}”`, [name.el, login.el, noPreauth.el, status.el], [
      { label: 'Save', value: 'save', primary: true },
      { label: 'Cancel', value: 'cancel' },
    ]);
    // Saving may fail: keep the dialog open and show the error next to its field.
    dialog.querySelector('form')!.addEventListener('submit', async (ev) => {
      const submitter = (ev as SubmitEvent).submitter as HTMLButtonElement | null;
      if (submitter?.value !== 'save') return;
      ev.preventDefault();
      name.setError(null);
      login.setError(null);
      status.clear();
      try {
        await api('PATCH', `tlspubkeys/${encodeURIComponent(k.fingerprint)}`, { name: name.control.value, loginAddress: login.control.value, noImapPreauth: noPreauth.control.checked });
        dialog.close('saved');
      } catch (err) {
        showFieldError(err, { name, loginAddress: login, noImapPreauth: noPreauth }, status);
      }
    });
    if ((await result) === 'saved') {
      tableStatus.ok(`Saved “${name.control.value.trim()}”.`);
      await refresh();
    }
  };

  const remove = async (k: TlsKey) => {
    const { result } = modal(`Remove key “${k.name}”?`, [
      h('p', null, 'Mail clients using this key can no longer log in with it, and their open connections end.'),
      h('p', null, h('code', { class: 'fingerprint' }, k.fingerprint)),
    ], [
      { label: 'Remove', value: 'remove', danger: true },
      { label: 'Cancel', value: 'cancel' },
    ]);
    if ((await result) !== 'remove') return;
    try {
      await api('DELETE', `tlspubkeys/${encodeURIComponent(k.fingerprint)}`);
      tableStatus.ok(`Removed “${k.name}”.`);
    } catch (err) {
      tableStatus.fail(err instanceof Error ? err.message : String(err));
    }
    await refresh();
  };

  // Add form.
  const file = field('Certificate file', h('input', { type: 'file', name: 'certificateFile', accept: '.pem,.crt,.cer,.der,application/x-pem-file,application/pkix-cert' }), 'PEM or DER. The certificate only: never the private key.');
  const pemText = field('…or paste the certificate (PEM)', h('textarea', { name: 'certificate', rows: 5, spellcheck: false, placeholder: '-----BEGIN CERTIFICATE-----' }));
  const login = field('Login address', addressSelect(session.addresses, session.address), 'The user name of sessions that log in with this key.');
  const name = field('Name (optional)', h('input', { type: 'text', name: 'name', maxlength: 256, placeholder: "default: the certificate's common name" }));
  const noPreauth = field('No IMAP preauth', h('input', { type: 'checkbox', name: 'noImapPreauth' }), 'Do not log IMAP connections in at connect; the client uses AUTHENTICATE EXTERNAL.');
  const addStatus = statusLine();
  const addButton = h('button', { type: 'submit' }, 'Add key');
  const form = h('form', { class: 'card', 'aria-labelledby': 'add-title', novalidate: true },
    h('h2', { id: 'add-title' }, 'Add a key from a certificate'),
    file.el, pemText.el, login.el, name.el, noPreauth.el, addButton, addStatus.el);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    for (const f of [file, pemText, login, name]) f.setError(null);
    addStatus.clear();
    const body: Record<string, unknown> = { loginAddress: login.control.value, name: name.control.value, noImapPreauth: noPreauth.control.checked };
    const chosen = file.control.files?.[0];
    if (chosen) {
      const bytes = new Uint8Array(await chosen.arrayBuffer());
      const text = new TextDecoder().decode(bytes);
      if (PRIVATE_KEY_TEXT.test(text)) return file.setError(PRIVATE_KEY_MESSAGE);
      if (text.includes('-----BEGIN ')) body.certificate = text;
      else body.certificateDer = toBase64(bytes);
    } else if (pemText.control.value.trim()) {
      if (PRIVATE_KEY_TEXT.test(pemText.control.value)) return pemText.setError(PRIVATE_KEY_MESSAGE);
      body.certificate = pemText.control.value;
    } else {
      return file.setError('Choose a certificate file or paste a PEM certificate.');
    }
    addButton.disabled = true;
    try {
      const key = await withStepUp((password) => api<TlsKey>('POST', 'tlspubkeys', password === undefined ? body : { ...body, password }));
      addStatus.ok(`Added “${key.name}” (${key.fingerprint}).`);
      form.reset();
      login.control.value = session.address;
      await refresh();
    } catch (err) {
      const target = chosen ? file : pemText;
      showFieldError(err, { certificate: target, loginAddress: login, name }, addStatus);
    } finally {
      addButton.disabled = false;
    }
  });

  void refresh();
  return h('section', { 'aria-labelledby': 'keys-title' },
    h('h1', { id: 'keys-title' }, 'TLS public keys'),
    h('p', null, 'A mail client that holds the private key of a registered certificate logs in with it instead of a password, over IMAPS and SMTP submission. Only the public key counts: a self-signed certificate is fine.'),
    tableStatus.el,
    tableBox,
    form,
  );
}
