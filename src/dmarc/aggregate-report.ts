// DMARC aggregate reports (RFC 7489 7.2, schema in appendix C): the report of one policy domain for
// one UTC day, built from the counted rows, as XML; and the reading of a report back (ours or one
// that another receiver sent to our rua address) into the same shape.

import type { DmarcEvent } from '../store/types.js';
import type { PublishedPolicy } from './record-tags.js';
import { parseXml, xmlEscape, type XmlElement } from './xml.js';

export interface ReportRecord {
  sourceIp: string;
  count: number;
  disposition: string;
  dkim: string;
  spf: string;
  envelopeFrom: string;
  headerFrom: string;
  authDkim: { domain: string; selector: string; result: string }[];
  authSpf: { domain: string; result: string }[];
}

export interface AggregateReport {
  orgName: string;
  email: string;
  reportId: string;
  /** Seconds since the epoch, UTC (RFC 7489 appendix C). */
  begin: number;
  end: number;
  policy: Omit<PublishedPolicy, 'rua'>;
  records: ReportRecord[];
}

/** The report of `events` (all of one policy domain and day); null when there are none. */
export function buildReport(events: readonly DmarcEvent[], reporter: { orgName: string; email: string }): AggregateReport | null {
  if (events.length === 0) return null;
  const day = events[0]!.day;
  const begin = Date.parse(`${day}T00:00:00Z`) / 1000;
  const latest = JSON.parse(events.at(-1)!.policy) as PublishedPolicy;
  return {
    orgName: reporter.orgName,
    email: reporter.email,
    reportId: `${latest.domain}.${day}`,
    begin,
    end: begin + 86400 - 1,
    policy: { domain: latest.domain, adkim: latest.adkim, aspf: latest.aspf, p: latest.p, sp: latest.sp, pct: latest.pct },
    records: events.map((e) => {
      const auth = JSON.parse(e.auth) as { dkim: ReportRecord['authDkim']; spf: { domain: string; result: string } | null };
      return {
        sourceIp: e.sourceIp, count: e.count, disposition: e.disposition, dkim: e.dkim, spf: e.spf,
        envelopeFrom: e.envelopeFrom, headerFrom: e.headerFrom, authDkim: auth.dkim, authSpf: auth.spf ? [auth.spf] : [],
      };
    }),
  };
}

export function reportXml(r: AggregateReport): string {
  const el = (name: string, v: string | number) => `<${name}>${xmlEscape(String(v))}</${name}>`;
  const rec = (x: ReportRecord) => [
    '  <record>',
    `    <row>${el('source_ip', x.sourceIp)}${el('count', x.count)}<policy_evaluated>${el('disposition', x.disposition)}${el('dkim', x.dkim)}${el('spf', x.spf)}</policy_evaluated></row>`,
    `    <identifiers>${x.envelopeFrom ? el('envelope_from', x.envelopeFrom) : ''}${el('header_from', x.headerFrom)}</identifiers>`,
    `    <auth_results>${x.authDkim.map((d) => `<dkim>${el('domain', d.domain)}${d.selector ? el('selector', d.selector) : ''}${el('result', d.result)}</dkim>`).join('')}` +
      `${x.authSpf.map((s) => `<spf>${el('domain', s.domain)}<scope>mfrom</scope>${el('result', s.result)}</spf>`).join('')}</auth_results>`,
    '  </record>',
  ].join('\n');
  const p = r.policy;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<feedback>',
    `  <report_metadata>${el('org_name', r.orgName)}${el('email', r.email)}${el('report_id', r.reportId)}<date_range>${el('begin', r.begin)}${el('end', r.end)}</date_range></report_metadata>`,
    `  <policy_published>${el('domain', p.domain)}${el('adkim', p.adkim)}${el('aspf', p.aspf)}${el('p', p.p)}${el('sp', p.sp)}${el('pct', p.pct)}</policy_published>`,
    ...r.records.map(rec),
    '</feedback>',
    '',
  ].join('\n');
}

export class ReportFormatError extends Error {
  readonly code = 'dmarc-report-format';
}

/** Reads an aggregate report; throws ReportFormatError when it is not one. */
export function parseReport(xml: string): AggregateReport {
  const root = parseXml(xml);
  if (root.name !== 'feedback') throw new ReportFormatError('not a DMARC aggregate report (no <feedback>)');
  const meta = child(root, 'report_metadata');
  const range = child(meta, 'date_range');
  const pol = child(root, 'policy_published');
  return {
    orgName: text(meta, 'org_name'),
    email: text(meta, 'email'),
    reportId: text(meta, 'report_id'),
    begin: Number(text(range, 'begin')),
    end: Number(text(range, 'end')),
    policy: {
      domain: text(pol, 'domain'),
      adkim: (opt(pol, 'adkim') ?? 'r') === 's' ? 's' : 'r',
      aspf: (opt(pol, 'aspf') ?? 'r') === 's' ? 's' : 'r',
      p: text(pol, 'p'),
      sp: opt(pol, 'sp') ?? text(pol, 'p'),
      pct: Number(opt(pol, 'pct') ?? '100'),
    },
    records: root.children.filter((c) => c.name === 'record').map((rec) => {
      const row = child(rec, 'row');
      const ev = child(row, 'policy_evaluated');
      const ids = child(rec, 'identifiers');
      const auth = rec.children.find((c) => c.name === 'auth_results');
      return {
        sourceIp: text(row, 'source_ip'),
        count: Number(text(row, 'count')),
        disposition: text(ev, 'disposition'),
        dkim: opt(ev, 'dkim') ?? '',
        spf: opt(ev, 'spf') ?? '',
        envelopeFrom: opt(ids, 'envelope_from') ?? '',
        headerFrom: text(ids, 'header_from'),
        authDkim: (auth?.children ?? []).filter((c) => c.name === 'dkim').map((d) => ({ domain: text(d, 'domain'), selector: opt(d, 'selector') ?? '', result: text(d, 'result') })),
        authSpf: (auth?.children ?? []).filter((c) => c.name === 'spf').map((d) => ({ domain: text(d, 'domain'), result: text(d, 'result') })),
      };
    }),
  };
}

function child(e: XmlElement, name: string): XmlElement {
  const c = e.children.find((x) => x.name === name);
  if (!c) throw new ReportFormatError(`<${e.name}> has no <${name}>`);
  return c;
}

function opt(e: XmlElement, name: string): string | undefined {
  return e.children.find((x) => x.name === name)?.text.trim();
}

function text(e: XmlElement, name: string): string {
  return child(e, name).text.trim();
}
