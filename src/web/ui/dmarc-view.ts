/// <reference lib="dom" />
// DMARC aggregate reports other receivers sent about the account's domains: per domain and day,
// each report's reporter and date range, then its rows (source, count, what was done, results).

import { api, type DmarcReceived, type DmarcReport } from './api.js';
import { formatTime, h, replaceChildren, statusLine } from './dom.js';

function reportTable(r: DmarcReport): HTMLElement {
  return h('div', { class: 'table-box dmarc-report' },
    h('h4', null, `${r.reporter} `, h('span', { class: 'hint' }, `(${formatTime(r.begin)} – ${formatTime(r.end)}): ${r.messages} messages, ${r.messages - r.passed} failed DMARC`)),
    h('table', { class: 'dmarc-rows' },
      h('caption', { class: 'offscreen' }, `Report ${r.reportId} from ${r.reporter}`),
      h('thead', null, h('tr', null, ...['Source IP', 'Messages', 'Disposition', 'DKIM', 'SPF', 'From domain'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', null, ...r.rows.map((x) =>
        h('tr', { class: x.dkim === 'pass' || x.spf === 'pass' ? 'ok' : 'failed' },
          h('td', { 'data-label': 'Source IP' }, x.sourceIp),
          h('td', { 'data-label': 'Messages' }, String(x.count)),
          h('td', { 'data-label': 'Disposition' }, x.disposition),
          h('td', { 'data-label': 'DKIM' }, x.dkim),
          h('td', { 'data-label': 'SPF' }, x.spf),
          h('td', { 'data-label': 'From domain' }, x.headerFrom),
        ),
      )),
    ),
  );
}

export function dmarcView(): HTMLElement {
  const box = h('div', null, h('p', null, 'Loading…'));
  const status = statusLine();
  const load = async () => {
    status.clear();
    try {
      const { domains, limit } = await api<DmarcReceived>('GET', 'dmarc/received');
      replaceChildren(box, ...domains.map((d) =>
        h('section', { class: 'dmarc-domain', 'aria-label': d.domain },
          h('h2', null, d.domain),
          d.days.length === 0 ? h('p', { class: 'empty' }, 'No reports received for this domain.') : null,
          ...d.days.map((day) => h('div', { class: 'dmarc-day' }, h('h3', null, day.day), ...day.reports.map(reportTable))),
        )),
        h('p', { class: 'hint' }, `At most the newest ${limit} reports are shown.`));
    } catch (err) {
      status.fail(err instanceof Error ? err.message : String(err));
    }
  };
  void load();
  return h('section', { 'aria-labelledby': 'dmarc-title' },
    h('h1', { id: 'dmarc-title' }, 'DMARC reports'),
    h('p', null, 'Aggregate reports other mail servers sent about mail claiming to come from your domains: who sent it, from which address, and whether it passed DKIM and SPF. Mail that fails from an address you do not know may be forged.'),
    h('div', { class: 'buttons' }, h('button', { type: 'button', class: 'secondary', onclick: () => void load() }, 'Refresh')),
    status.el,
    box,
  );
}
