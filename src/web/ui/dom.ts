/// <reference lib="dom" />
// A tiny element builder and form-field helper. Text is always set as text (never innerHTML), so
// nothing from the server or the user can become markup.

type AttrValue = string | number | boolean | null | undefined | ((ev: Event) => void);
export type Child = Node | string | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs?: Record<string, AttrValue> | null, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === null || v === undefined || v === false) continue;
    if (typeof v === 'function') el.addEventListener(k.replace(/^on/, ''), v);
    else if (k === 'class') el.className = String(v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

export function append(el: Node, children: Child[]): void {
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
}

export function replaceChildren(el: Element, ...children: Child[]): void {
  el.textContent = '';
  append(el, children);
}

let nextId = 0;
export function uid(prefix: string): string {
  return `${prefix}-${++nextId}`;
}

export interface Field<E extends HTMLElement> {
  /** The wrapper with label, control, hint and error slot. */
  el: HTMLElement;
  control: E;
  setError(message: string | null): void;
}

/** A labelled control with an error slot the control points to (aria-describedby). */
export function field<E extends HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement>(label: string, control: E, hint?: string): Field<E> {
  const id = control.id || uid('f');
  control.id = id;
  const errorEl = h('p', { class: 'field-error', id: `${id}-error`, role: 'alert', hidden: true });
  const hintEl = hint ? h('p', { class: 'hint', id: `${id}-hint` }, hint) : null;
  control.setAttribute('aria-describedby', [hintEl ? `${id}-hint` : '', `${id}-error`].filter(Boolean).join(' '));
  const isCheckbox = control instanceof HTMLInputElement && control.type === 'checkbox';
  const el = isCheckbox
    ? h('div', { class: 'field checkbox' }, h('label', { for: id }, control, ' ', label), hintEl, errorEl)
    : h('div', { class: 'field' }, h('label', { for: id }, label), control, hintEl, errorEl);
  return {
    el,
    control,
    setError(message) {
      errorEl.textContent = message ?? '';
      errorEl.hidden = message === null;
      if (message === null) control.removeAttribute('aria-invalid');
      else control.setAttribute('aria-invalid', 'true');
    },
  };
}

/** A <select> of the account's addresses. */
export function addressSelect(addresses: string[], selected: string, name = 'loginAddress'): HTMLSelectElement {
  return h('select', { name }, ...addresses.map((a) => h('option', { value: a, selected: a === selected }, a)));
}

/** A short status line for a form (success or failure), announced to screen readers. */
export function statusLine(): { el: HTMLElement; ok(msg: string): void; fail(msg: string): void; clear(): void } {
  const el = h('p', { class: 'status', role: 'status', hidden: true });
  const set = (cls: string, msg: string) => {
    el.className = `status ${cls}`;
    el.textContent = msg;
    el.hidden = false;
  };
  return { el, ok: (m) => set('ok', m), fail: (m) => set('fail', m), clear: () => (el.hidden = true) };
}

export function formatTime(iso: string | null): string {
  if (!iso) return 'never';
  const d = new Date(iso);
  return d.toLocaleString(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

/** Offers bytes as a file download. */
export function downloadLink(label: string, filename: string, data: BlobPart, type: string): HTMLAnchorElement {
  const url = URL.createObjectURL(new Blob([data], { type }));
  return h('a', { href: url, download: filename, class: 'button' }, label);
}

/** Copies text, with a fallback for browsers without the async clipboard API. */
export async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const ta = h('textarea', { class: 'offscreen', readonly: true });
    ta.value = text;
    document.body.appendChild(ta);
    ta.select();
    const ok = document.execCommand('copy');
    ta.remove();
    return ok;
  }
}
