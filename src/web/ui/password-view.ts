/// <reference lib="dom" />
// Changing the password: current and new (at least 8 characters). Other web sessions and mail
// client sessions of the account end; mail clients must then use the new password.

import { api, ApiError } from './api.js';
import { field, h, statusLine } from './dom.js';

export function passwordView(): HTMLElement {
  const oldPw = field('Current password', h('input', { type: 'password', name: 'oldPassword', autocomplete: 'current-password', required: true }));
  const newPw = field('New password', h('input', { type: 'password', name: 'newPassword', autocomplete: 'new-password', minlength: 8, required: true }), 'At least 8 characters.');
  const newPw2 = field('Repeat the new password', h('input', { type: 'password', name: 'newPassword2', autocomplete: 'new-password', required: true }));
  const status = statusLine();
  const button = h('button', { type: 'submit' }, 'Change password');
  const form = h('form', { class: 'card narrow', novalidate: true, 'aria-labelledby': 'password-title' }, oldPw.el, newPw.el, newPw2.el, button, status.el);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    for (const f of [oldPw, newPw, newPw2]) f.setError(null);
    status.clear();
    if (!oldPw.control.value) return oldPw.setError('Enter your current password.'), oldPw.control.focus();
    if ([...newPw.control.value].length < 8) return newPw.setError('The new password must have at least 8 characters.'), newPw.control.focus();
    if (newPw.control.value !== newPw2.control.value) return newPw2.setError('The new passwords differ.'), newPw2.control.focus();
    button.disabled = true;
    try {
      await api('POST', 'password', { oldPassword: oldPw.control.value, newPassword: newPw.control.value });
      form.reset();
      status.ok('Password changed. Your other sessions were logged out; mail clients must use the new password.');
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      const f = err instanceof ApiError ? { oldPassword: oldPw, newPassword: newPw }[err.field ?? ''] : undefined;
      if (f) {
        f.setError(msg);
        f.control.focus();
      } else status.fail(msg);
    } finally {
      button.disabled = false;
    }
  });
  return h('section', { 'aria-labelledby': 'password-title' }, h('h1', { id: 'password-title' }, 'Change password'), form);
}
