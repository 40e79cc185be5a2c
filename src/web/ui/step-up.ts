/// <reference lib="dom" />
// Adding a key is a step-up action (docs/web-api.md): when the login is more than a few minutes
// old, the server answers 403 `stepup`, and the page asks for the current password in a dialog and
// sends the request again with it. A wrong password keeps the dialog open with the error.

import { ApiError } from './api.js';
import { field, h, statusLine } from './dom.js';
import { modal } from './modal.js';

/** Runs `send` without a password, and again with the one the user enters if the server asks. */
export async function withStepUp<T>(send: (password?: string) => Promise<T>): Promise<T> {
  try {
    return await send();
  } catch (err) {
    if (!(err instanceof ApiError && err.code === 'stepup')) throw err;
  }
  // Not `required`: the browser's check would block Cancel too; an empty field is caught below.
  const pw = field('Current password', h('input', { type: 'password', name: 'password', autocomplete: 'current-password' }));
  const status = statusLine();
  const { dialog, result } = modal('Confirm with your password', [
    h('p', null, 'Adding a key gives a device lasting access to your mail. Enter your current password to go on.'),
    pw.el,
    status.el,
  ], [
    { label: 'Confirm', value: 'confirm', primary: true },
    { label: 'Cancel', value: 'cancel' },
  ]);
  const done: { outcome: { ok: true; value: T } | { ok: false; error: unknown } | null } = { outcome: null };
  dialog.querySelector('form')!.addEventListener('submit', async (ev) => {
    const submitter = (ev as SubmitEvent).submitter as HTMLButtonElement | null;
    if (submitter?.value === 'cancel') return;
    ev.preventDefault();
    pw.setError(null);
    status.clear();
    if (!pw.control.value) return pw.setError('Enter your current password.'), pw.control.focus();
    try {
      done.outcome = { ok: true, value: await send(pw.control.value) };
      dialog.close('done');
    } catch (err) {
      if (err instanceof ApiError && err.field === 'password') {
        pw.setError(err.message);
        pw.control.focus();
        return;
      }
      done.outcome = { ok: false, error: err };
      dialog.close('done');
    }
  });
  pw.control.focus();
  await result;
  const o = done.outcome;
  if (o === null) throw new ApiError(0, 'cancelled', 'Not added: the password was not confirmed.');
  if (!o.ok) throw o.error;
  return o.value;
}
