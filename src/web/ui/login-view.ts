/// <reference lib="dom" />
// The login form: email address and password.

import { api, ApiError, type SessionInfo } from './api.js';
import { field, h, statusLine } from './dom.js';

export function loginView(onLoggedIn: (s: SessionInfo) => void): HTMLElement {
  const address = field('Email address', h('input', { type: 'email', name: 'address', autocomplete: 'username', required: true, autofocus: true }));
  const password = field('Password', h('input', { type: 'password', name: 'password', autocomplete: 'current-password', required: true }));
  const status = statusLine();
  const submit = h('button', { type: 'submit' }, 'Log in');
  const form = h('form', { class: 'card narrow', 'aria-labelledby': 'login-title', novalidate: true }, h('h1', { id: 'login-title' }, 'Postern account'), address.el, password.el, submit, status.el);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    address.setError(null);
    password.setError(null);
    status.clear();
    if (!address.control.value.trim()) return address.setError('Enter your email address.'), address.control.focus();
    if (!password.control.value) return password.setError('Enter your password.'), password.control.focus();
    submit.disabled = true;
    try {
      await api('POST', 'login', { address: address.control.value.trim(), password: password.control.value });
      onLoggedIn(await api<SessionInfo>('GET', 'session'));
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      if (err instanceof ApiError && err.field === 'address') address.setError(msg);
      else if (err instanceof ApiError && err.field === 'password') password.setError(msg);
      else status.fail(msg);
      password.control.select();
      password.control.focus();
    } finally {
      submit.disabled = false;
    }
  });
  return h('main', { class: 'login' }, form);
}
