/// <reference lib="dom" />
// A modal dialog (<dialog> with a form of buttons), for confirmations and small forms.

import { h } from './dom.js';

/** A dialog with a title, body and buttons; resolves with the button's value (or '' on Escape). */
export function modal(title: string, body: Node[], buttons: { label: string; value: string; primary?: boolean; danger?: boolean }[]): { dialog: HTMLDialogElement; result: Promise<string> } {
  const titleId = `dlg-${Math.random().toString(36).slice(2)}`;
  const form = h('form', { method: 'dialog' },
    h('h2', { id: titleId }, title),
    ...body,
    h('div', { class: 'buttons' }, ...buttons.map((b) => h('button', { value: b.value, class: b.danger ? 'danger' : b.primary ? '' : 'secondary' }, b.label))),
  );
  const dialog = h('dialog', { 'aria-labelledby': titleId }, form);
  document.body.appendChild(dialog);
  const result = new Promise<string>((resolve) => {
    dialog.addEventListener('close', () => {
      resolve(dialog.returnValue);
      dialog.remove();
    });
  });
  dialog.showModal();
  return { dialog, result };
}
