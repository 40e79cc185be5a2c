// DMARC enforcement on port 25 (RFC 7489 6.6) with real DKIM signatures (mailauth's signer, RSA keys
// published over DNS) and real SPF results: unbound serves the zones, the SMTP client connects from
// 127.0.0.x source addresses that the SPF records list or not.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { dkimSign, dkimVerify } from 'mailauth';
import { join } from 'node:path';
import { addDomainKeys, entryDnsRecord } from '../../src/smtp/server/dkim-keyring.js';
import { deflateRawSync, gunzipSync, gzipSync } from 'node:zlib';
import { buildReport, parseReport, reportXml } from '../../src/dmarc/aggregate-report.js';
import { reportMessage, sendDailyReports } from '../../src/dmarc/report-sender.js';
import { resolverAt } from '../../src/server/dns-resolver.js';
import { generateDkimKeys, type DkimKey } from '../../src/smtp/server/index.js';
import { HOSTNAME, SmtpClient, header, startHarness, type Harness } from '../smtp/harness.js';
import { startUnbound, unboundInstalled, type DnsRecord, type Unbound } from './unbound.js';

/** The only address the sender domains' SPF records allow. */
const GOOD_IP = '127.0.0.10';
const BAD_IP = '127.0.0.99';
const SENDERS = ['reject.test', 'quarantine.test', 'none.test', 'pct.test', 'broken.test', 'listed.test'];
const POLICIES: Record<string, string> = {
  'reject.test': 'v=DMARC1; p=reject; rua=mailto:dmarc@reports.test',
  // Reports asked to a domain that has not agreed to take them (RFC 7489 7.1).
  'quarantine.test': 'v=DMARC1; p=quarantine; rua=mailto:dmarc@unverified.test',
  'none.test': 'v=DMARC1; p=none',
  // pct=0: no failing message is in the sample, so reject drops to quarantine (RFC 7489 6.6.4).
  'pct.test': 'v=DMARC1; p=reject; pct=0',
  'broken.test': 'v=DMARC1; p=reject',
  'listed.test': 'v=DMARC1; p=reject',
};

let dns: Unbound | undefined;
let h: Harness;
const keys = new Map<string, DkimKey>();

before(async () => {
  if (!unboundInstalled()) return;
  const records: DnsRecord[] = [];
  for (const d of [...SENDERS, 'example.test']) {
    const rsa = generateDkimKeys(d).find((k) => k.algorithm === 'rsa')!;
    keys.set(d, rsa);
    records.push({ name: rsa.dnsName, type: 'TXT', value: rsa.dnsRecord });
    records.push({ name: d, type: 'TXT', value: `v=spf1 ip4:${GOOD_IP} -all` });
  }
  for (const d of SENDERS) records.push({ name: `_dmarc.${d}`, type: 'TXT', value: POLICIES[d]! });
  records.push({ name: 'reject.test._report._dmarc.reports.test', type: 'TXT', value: 'v=DMARC1' });
  // Our own domain publishes only p=none: the own-domain rule must not depend on it.
  records.push({ name: '_dmarc.example.test', type: 'TXT', value: 'v=DMARC1; p=none' });
  dns = await startUnbound([...SENDERS, 'example.test', 'reports.test', 'unverified.test'], records);
  h = await startHarness({ resolver: resolverAt(dns.address), dmarc: { exceptions: ['listed.test'], enforce: true, reportAddresses: ['dmarc-reports@example.test'] } });
  await h.store.setDmarcException(h.bob.id, 'broken.test', true);
  await h.store.addAddress('alice', 'dmarc-reports@example.test');
});
after(async () => {
  await h?.close();
  await dns?.stop();
});

function requireDns(t: { skip(msg: string): void }): boolean {
  if (dns) return true;
  if (process.env.CI) throw new Error('unbound is not installed (.ci/apt-packages)');
  t.skip('unbound not installed');
  return false;
}

let seq = 0;
/** A message From `from`, RSA-signed by its domain's key when `sign`. */
async function compose(from: string, to: string, sign: boolean): Promise<string> {
  const domain = from.split('@')[1]!;
  const raw = `From: <${from}>\r\nTo: <${to}>\r\nSubject: dmarc ${++seq}\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\nMessage-ID: <m${seq}@${domain}>\r\n\r\nHello number ${seq}.\r\n`;
  if (!sign) return raw;
  const k = keys.get(domain)!;
  const key = { signingDomain: domain, selector: k.selector, privateKey: k.privateKeyPem, algorithm: 'rsa-sha256' };
  const sig = await dkimSign(raw, { ...key, signatureData: [key] });
  return sig.signatures + raw;
}

/** Sends from `ip`; returns the reply to the end of DATA. */
async function send(ip: string, mailFrom: string, rcpts: string[], body: string): Promise<{ code: number; enhanced?: string; text: string }> {
  const c = await SmtpClient.connect(h.ports.smtp, { localAddress: ip });
  await c.expect(220);
  await c.ehlo('mx.sender.test');
  await c.cmd(`MAIL FROM:<${mailFrom}>`, 250);
  for (const r of rcpts) await c.cmd(`RCPT TO:<${r}>`, 250);
  await c.cmd('DATA', 354);
  c.write(body + '.\r\n');
  const r = await c.reply();
  await c.cmd('QUIT', 221);
  c.close();
  return { code: r.code, enhanced: r.enhanced, text: r.lines.join(' ') };
}

/** Where the message with this Subject landed for the account: 'INBOX', 'Junk' or null. */
async function landed(accountId: number, subject: string): Promise<string | null> {
  for (const box of ['INBOX', 'Junk']) {
    for (const m of await h.mailbox(accountId, box)) if (header(m, 'Subject') === subject) return box;
  }
  return null;
}

const subjectOf = (body: string) => /^Subject: (.*)\r$/m.exec(body)![1]!;

describe('DMARC enforcement', () => {
  test('aligned SPF and DKIM pass: delivered to the Inbox under p=reject', async (t) => {
    if (!requireDns(t)) return;
    const body = await compose('news@reject.test', 'alice@example.test', true);
    assert.equal((await send(GOOD_IP, 'bounce@reject.test', ['alice@example.test'], body)).code, 250);
    assert.equal(await landed(h.alice.id, subjectOf(body)), 'INBOX');
    const m = (await h.inbox(h.alice.id)).at(-1)!;
    assert.match(header(m, 'Authentication-Results')!, /dmarc=pass/);
    assert.match(header(m, 'Authentication-Results')!, /dkim=pass/);
  });

  test('DKIM alone passing (SPF fails from an unlisted address) is enough', async (t) => {
    if (!requireDns(t)) return;
    const body = await compose('news@reject.test', 'alice@example.test', true);
    assert.equal((await send(BAD_IP, 'bounce@reject.test', ['alice@example.test'], body)).code, 250);
    assert.equal(await landed(h.alice.id, subjectOf(body)), 'INBOX');
  });

  test('p=reject: a failing message is refused with 550 5.7.1 and stored nowhere', async (t) => {
    if (!requireDns(t)) return;
    const body = await compose('news@reject.test', 'alice@example.test', false);
    const r = await send(BAD_IP, 'bounce@reject.test', ['alice@example.test'], body);
    assert.equal(r.code, 550, r.text);
    assert.equal(r.enhanced, '5.7.1');
    assert.match(r.text, /reject\.test/);
    assert.equal(await landed(h.alice.id, subjectOf(body)), null);
  });

  test('p=reject: a DKIM signature broken in transit and SPF fail are refused', async (t) => {
    if (!requireDns(t)) return;
    const body = (await compose('news@reject.test', 'alice@example.test', true)).replace(/Hello number/, 'Changed number');
    const r = await send(BAD_IP, 'bounce@reject.test', ['alice@example.test'], body);
    assert.equal(r.code, 550, r.text);
  });

  test('p=quarantine: a failing message is delivered to Junk, with the verdict recorded', async (t) => {
    if (!requireDns(t)) return;
    const body = await compose('news@quarantine.test', 'alice@example.test', false);
    assert.equal((await send(BAD_IP, 'bounce@quarantine.test', ['alice@example.test'], body)).code, 250);
    assert.equal(await landed(h.alice.id, subjectOf(body)), 'Junk');
    const m = (await h.mailbox(h.alice.id, 'Junk')).at(-1)!;
    assert.match(header(m, 'Authentication-Results')!, /dmarc=fail/);
  });

  test('p=none: a failing message goes to the Inbox', async (t) => {
    if (!requireDns(t)) return;
    const body = await compose('news@none.test', 'alice@example.test', false);
    assert.equal((await send(BAD_IP, 'bounce@none.test', ['alice@example.test'], body)).code, 250);
    assert.equal(await landed(h.alice.id, subjectOf(body)), 'INBOX');
  });

  test('pct=0 with p=reject: outside the sample, quarantined instead of refused', async (t) => {
    if (!requireDns(t)) return;
    const body = await compose('news@pct.test', 'alice@example.test', false);
    assert.equal((await send(BAD_IP, 'bounce@pct.test', ['alice@example.test'], body)).code, 250);
    assert.equal(await landed(h.alice.id, subjectOf(body)), 'Junk');
  });

  test('an account exception: bob gets the failing message in his Inbox, alice in Junk', async (t) => {
    if (!requireDns(t)) return;
    const only = await compose('list@broken.test', 'alice@example.test', false);
    assert.equal((await send(BAD_IP, 'bounce@broken.test', ['alice@example.test'], only)).code, 550, 'alice alone: refused');
    const body = await compose('list@broken.test', 'bob@example.test', false);
    assert.equal((await send(BAD_IP, 'bounce@broken.test', ['alice@example.test', 'bob@example.test'], body)).code, 250);
    assert.equal(await landed(h.bob.id, subjectOf(body)), 'INBOX');
    assert.equal(await landed(h.alice.id, subjectOf(body)), 'Junk');
  });

  test('the server exception list (dmarc.exceptions) exempts a domain for everyone', async (t) => {
    if (!requireDns(t)) return;
    const body = await compose('list@listed.test', 'alice@example.test', false);
    assert.equal((await send(BAD_IP, 'bounce@listed.test', ['alice@example.test'], body)).code, 250);
    assert.equal(await landed(h.alice.id, subjectOf(body)), 'INBOX');
  });
});

describe('own-domain rule', () => {
  test('From one of our domains, not passing DMARC: never the Inbox, though our record is p=none', async (t) => {
    if (!requireDns(t)) return;
    const body = await compose('alice@example.test', 'bob@example.test', false);
    assert.equal((await send(BAD_IP, 'alice@example.test', ['bob@example.test'], body)).code, 250);
    assert.equal(await landed(h.bob.id, subjectOf(body)), 'Junk');
  });

  test('a subdomain of ours, with no record at all, and an exception listing it: still Junk', async (t) => {
    if (!requireDns(t)) return;
    await h.store.setDmarcException(h.bob.id, 'example.test', true);
    try {
      const body = await compose('ceo@mail.example.test', 'bob@example.test', false);
      assert.equal((await send(BAD_IP, 'ceo@mail.example.test', ['bob@example.test'], body)).code, 250);
      assert.equal(await landed(h.bob.id, subjectOf(body)), 'Junk');
    } finally {
      await h.store.setDmarcException(h.bob.id, 'example.test', false);
    }
  });

  test('our own domain passing DMARC (aligned DKIM) reaches the Inbox', async (t) => {
    if (!requireDns(t)) return;
    const body = await compose('alice@example.test', 'bob@example.test', true);
    assert.equal((await send(BAD_IP, 'alice@example.test', ['bob@example.test'], body)).code, 250);
    assert.equal(await landed(h.bob.id, subjectOf(body)), 'INBOX');
  });
});

describe('aggregate report (RFC 7489 7.2)', () => {
  test('the day\'s rows for reject.test, with the right counts, built as XML, gzipped and read back', async (t) => {
    if (!requireDns(t)) return;
    const day = new Date().toISOString().slice(0, 10);
    // Rows are counted without holding up the delivery: wait for the four messages above.
    const deadline = Date.now() + 5000;
    let events = await h.store.dmarcEvents(day, 'reject.test');
    while (events.reduce((n, e) => n + e.count, 0) < 4 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
      events = await h.store.dmarcEvents(day, 'reject.test');
    }
    const report = buildReport(events, { orgName: HOSTNAME, email: `postmaster@${HOSTNAME}` })!;
    const xml = gunzipSync(gzipSync(reportXml(report))).toString('utf8');
    const back = parseReport(xml);
    assert.deepEqual(back, report);
    assert.equal(back.policy.domain, 'reject.test');
    assert.equal(back.policy.p, 'reject');
    assert.equal(back.end - back.begin, 86399);
    const rows = back.records.map((r) => `${r.sourceIp} ${r.disposition} dkim=${r.dkim} spf=${r.spf} x${r.count}`).sort();
    // The two refused messages differ in their DKIM results (none; a broken signature): two rows.
    assert.deepEqual(rows, [
      `${GOOD_IP} none dkim=pass spf=pass x1`,
      `${BAD_IP} none dkim=pass spf=fail x1`,
      `${BAD_IP} reject dkim=fail spf=fail x1`,
      `${BAD_IP} reject dkim=fail spf=fail x1`,
    ]);
    const refused = back.records.filter((r) => r.disposition === 'reject');
    assert.deepEqual(refused.map((r) => r.authDkim.map((d) => d.result).join()).sort(), ['', 'neutral'], 'no signature; a broken one (body hash mismatch: neutral)');
    const good = back.records.find((r) => r.sourceIp === GOOD_IP)!;
    assert.equal(good.headerFrom, 'reject.test');
    assert.equal(good.envelopeFrom, 'reject.test');
    assert.deepEqual(good.authSpf, [{ domain: 'reject.test', result: 'pass' }]);
    assert.equal(good.authDkim[0]!.domain, 'reject.test');
    assert.equal(good.authDkim[0]!.result, 'pass');
  });

  test('the daily reports go through the queue, gzipped, to verified rua addresses only, once', async (t) => {
    if (!requireDns(t)) return;
    const day = new Date().toISOString().slice(0, 10);
    // The reporting host name has DKIM keys: the report is signed with them.
    const keyDir = join(h.dir, 'report-keys');
    const keys = addDomainKeys(keyDir, HOSTNAME);
    const deps = { store: h.store, hostname: HOSTNAME, resolver: resolverAt(dns!.address), dkim: { dir: keyDir, dkim: {} }, log: h.ctx.log };
    const ids = await sendDailyReports(deps, day);
    assert.equal(ids.length, 1, 'reject.test only: unverified.test did not agree to take quarantine.test reports');
    const q = (await h.store.getQueueMessage(ids[0]!))!;
    assert.deepEqual(q.recipients.map((r) => r.address), ['dmarc@reports.test']);
    assert.equal(q.sender, `postmaster@${HOSTNAME}`);
    assert.equal(q.isReport, true, 'its sessions are not counted for TLS-RPT');
    const raw = (await h.store.readBlob(q.fileId)).toString('latin1');
    assert.match(raw, /^Subject: Report Domain: reject\.test Submitter: mail\.example\.test Report-ID: <reject\.test\./m);
    const name = /filename="([^"]+)"/.exec(raw)![1]!;
    assert.match(name, /^mail\.example\.test!reject\.test!\d+!\d+\.xml\.gz$/);
    const b64 = raw.slice(raw.indexOf('\r\n\r\n', raw.indexOf('application/gzip')) + 4, raw.lastIndexOf('\r\n--='));
    const back = parseReport(gunzipSync(Buffer.from(b64, 'base64')).toString('utf8'));
    assert.equal(back.policy.domain, 'reject.test');
    assert.equal(back.records.reduce((n, r) => n + r.count, 0), 4);
    const records = new Map(keys.map((k) => [`${k.selector}._domainkey.${HOSTNAME}`, entryDnsRecord(keyDir, k)]));
    const resolver = async (name: string) => {
      if (!records.has(name)) throw Object.assign(new Error('no data'), { code: 'ENODATA' });
      return [[records.get(name)!]];
    };
    const verified = await dkimVerify(await h.store.readBlob(q.fileId), { resolver: resolver as never });
    assert.deepEqual(verified.results.map((r) => r.status.result), ['pass', 'pass'], 'DKIM-signed by the reporting domain');
    assert.deepEqual(await sendDailyReports(deps, day), [], 'sent once');
  });

  test('reports mailed to our rua address (gzip and zip) are read and kept, once each', async (t) => {
    if (!requireDns(t)) return;
    const report = {
      orgName: 'receiver.none.test', email: 'dmarc@none.test', reportId: 'r-1', begin: 1700000000, end: 1700086399,
      policy: { domain: 'example.test', adkim: 'r' as const, aspf: 'r' as const, p: 'none', sp: 'none', pct: 100 },
      records: [{ sourceIp: '192.0.2.1', count: 7, disposition: 'none', dkim: 'pass', spf: 'pass', envelopeFrom: 'example.test', headerFrom: 'example.test', authDkim: [{ domain: 'example.test', selector: 's1', result: 'pass' }], authSpf: [{ domain: 'example.test', result: 'pass' }] }],
    };
    const gzMail = reportMessage(report, { hostname: 'none.test', to: ['dmarc-reports@example.test'], now: new Date() }).toString('latin1');
    // The same shape with a zip attachment (one deflated file), from another reporter.
    const zipReport = { ...report, orgName: 'zipper.none.test', reportId: 'z-9' };
    const xml = Buffer.from(reportXml(zipReport));
    const deflated = deflateRawSync(xml);
    const head = Buffer.alloc(30);
    head.writeUInt32LE(0x04034b50, 0); head.writeUInt16LE(20, 4); head.writeUInt16LE(8, 8);
    head.writeUInt32LE(deflated.length, 18); head.writeUInt32LE(xml.length, 22); head.writeUInt16LE(10, 26);
    const zip = Buffer.concat([head, Buffer.from('report.xml'), deflated]);
    const zipMail = `From: <dmarc@none.test>\r\nTo: <dmarc-reports@example.test>\r\nSubject: Report Domain: example.test Submitter: zipper.none.test Report-ID: <z-9>\r\nMIME-Version: 1.0\r\n` +
      `Content-Type: application/zip; name="zipper!example.test!1700000000!1700086399.zip"\r\nContent-Transfer-Encoding: base64\r\n\r\n${zip.toString('base64')}\r\n`;
    for (const mail of [gzMail, zipMail, gzMail]) {
      assert.equal((await send(BAD_IP, 'dmarc@none.test', ['dmarc-reports@example.test'], mail.replace(/^\./gm, '..'))).code, 250);
    }
    const deadline = Date.now() + 5000;
    let got = await h.store.listReceivedDmarcReports('example.test');
    while (got.length < 2 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
      got = await h.store.listReceivedDmarcReports('example.test');
    }
    await new Promise((r) => setTimeout(r, 100));
    got = await h.store.listReceivedDmarcReports('example.test');
    assert.deepEqual(got.map((j) => JSON.parse(j)), [report, zipReport], 'the resent gzip report is kept once');
  });

  test('a report that is not one is refused with a format error', () => {
    assert.throws(() => parseReport('<html><body/></html>'), (e: Error & { code?: string }) => e.code === 'dmarc-report-format');
    assert.throws(() => parseReport('<!DOCTYPE x [<!ENTITY a "b">]><feedback/>'), (e: Error & { code?: string }) => e.code === 'xml-malformed');
    assert.throws(() => parseReport('<feedback><report_metadata>'), (e: Error & { code?: string }) => e.code === 'xml-malformed');
  });
});
