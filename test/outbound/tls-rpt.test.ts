// TLS-RPT (RFC 8460): results counted during deliveries under an MTA-STS policy, or without any
// policy (no-policy-found), become the next day's aggregate report, sent to both rua of the
// domain's _smtp._tls record: as gzipped JSON in a multipart/report mail through the queue (and
// the door, to the reporting address's MX), and by HTTPS POST to a local host with a test CA.

import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../../src/log/logger.js';
import { parseMessage } from '../../src/mime/index.js';
import { MtaSts } from '../../src/outbound/mta-sts.js';
import { OutboundTlsPolicy } from '../../src/outbound/policy-tls.js';
import { buildTlsReport, parseTlsRptRecord, sendTlsReports, tlsReportMessage, type TlsReportJson } from '../../src/outbound/tls-rpt.js';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { message, SmtpClient, startHarness } from '../smtp/harness.js';
import { addDomainKeys, entryDnsRecord } from '../../src/smtp/server/dkim-keyring.js';
import { dkimVerify } from 'mailauth';
import { TestBed } from './harness.js';

let bed: TestBed;
before(async () => {
  bed = await TestBed.create();
  await bed.addMx('mx-self.rpt.test', { cert: 'self-signed' });
  await bed.addMx('mx-good.rpt.test');
  await bed.addMx('mx-np.rpt.test');
  await bed.addMx('mx-np-plain.rpt.test', { starttls: false });
  // The report address's domain has an enforce policy its MX fails: reports go all the same.
  await bed.addMx('mx.reports.test', { cert: 'self-signed' });
  await bed.startPolicyHost(['rpt.test', 'reports.test']);
  // The less preferred host fails the certificate check; the next one takes the message.
  bed.dns.mx.set('rpt.test', ['mx-self.rpt.test', 'mx-good.rpt.test']);
  bed.publishSts('rpt.test', 'p1', 'enforce', ['*.rpt.test']);
  bed.dns.txt.set('_smtp._tls.rpt.test', [`v=TLSRPTv1; rua=mailto:tlsrpt@reports.test,https://mta-sts.rpt.test:${bed.httpsPort}/v1/tlsrpt`]);
  bed.dns.mx.set('reports.test', ['mx.reports.test']);
  bed.publishSts('reports.test', 'r1', 'enforce', ['mx.reports.test']);
  // Domains without MTA-STS or DANE; two of them ask for reports.
  bed.dns.mx.set('np.test', ['mx-np.rpt.test']);
  bed.dns.mx.set('np-plain.test', ['mx-np-plain.rpt.test']);
  bed.dns.mx.set('np-quiet.test', ['mx-np.rpt.test']);
  for (const d of ['np.test', 'np-plain.test']) bed.dns.txt.set(`_smtp._tls.${d}`, [`v=TLSRPTv1; rua=https://mta-sts.rpt.test:${bed.httpsPort}/np`]);
});
after(() => bed.close());

describe('TLS-RPT', () => {
  it('parses the _smtp._tls record', () => {
    assert.deepEqual(parseTlsRptRecord('v=TLSRPTv1;rua=mailto:a@b.example, https://r.example/x'), ['mailto:a@b.example', 'https://r.example/x']);
    assert.equal(parseTlsRptRecord('v=TLSRPTv2; rua=mailto:a@b'), null);
    assert.equal(parseTlsRptRecord('v=TLSRPTv1; rua=ftp://x'), null);
  });

  it('sends yesterday\'s report with the counts of each result, by mail and by HTTPS, then forgets them', async () => {
    const yesterday = new Date(Date.now() - 86400_000);
    const q0 = await bed.queue({ forDestination: () => Promise.reject(new Error('unused')) });
    const mtaSts = new MtaSts({ store: q0.store, resolveTxt: bed.dns.resolveTxt, fetch: { ca: bed.pki.caPem, port: bed.httpsPort, lookup: bed.lookup }, log: silentLogger });
    const policy = new OutboundTlsPolicy({ mtaSts, ca: [bed.pki.caPem], results: q0.store, now: () => yesterday, log: silentLogger });
    const q = await bed.queue(policy, { store: q0.store });
    for (let i = 0; i < 3; i++) await q.enqueue(`user${i}@rpt.test`);
    await q.queue.runOnce();
    assert.deepEqual(await q.store.listQueue(), [], 'all three delivered by the second MX');
    await policy.flush();

    // Today's run: reports of finished days only. The report's From domain has DKIM keys.
    const keyDir = join(bed.dir, 'keys');
    const keys = addDomainKeys(keyDir, 'mail.example.org');
    const sent = await sendTlsReports({
      store: q.store, resolveTxt: bed.dns.resolveTxt, hostname: 'mail.example.org', dkim: { dir: keyDir, dkim: {} },
      https: { ca: bed.pki.caPem, lookup: bed.lookup }, log: silentLogger,
    });
    assert.deepEqual(sent.map((s) => `${s.rua.replace(/:\d+\//, '/')} ${s.ok}`), ['mailto:tlsrpt@reports.test true', 'https://mta-sts.rpt.test/v1/tlsrpt true']);
    const day = yesterday.toISOString().slice(0, 10);
    const [queued] = await q.store.listQueue();
    assert.ok(queued, 'the report mail is queued');
    assert.deepEqual(queued.recipients.map((r) => r.address), ['tlsrpt@reports.test']);
    const mail = await q.store.readBlob(queued.fileId);
    const head = mail.subarray(0, mail.indexOf('\r\n\r\n')).toString();
    assert.match(head, /^Content-Type: multipart\/report; report-type="tlsrpt"/m);
    assert.match(head, /^Subject: Report Domain: rpt\.test Submitter: mail\.example\.org Report-ID: </m);
    assert.match(head, /^TLS-Report-Domain: rpt\.test$/m);
    assert.match(head, /^TLS-Required: No$/m, 'RFC 8460 5.3: delivered despite TLS failures');
    const att = parseMessage(mail).children![1]!;
    assert.equal(`${att.type}/${att.subtype}`, 'application/tlsrpt+gzip');
    const report = JSON.parse(gunzipSync(Buffer.from(mail.subarray(att.bodyStart, att.bodyEnd).toString(), 'base64')).toString()) as TlsReportJson;
    assert.deepEqual(report['date-range'], { 'start-datetime': `${day}T00:00:00Z`, 'end-datetime': `${day}T23:59:59Z` });
    assert.equal(report.policies.length, 1);
    const p = report.policies[0]!;
    assert.equal(p.policy['policy-type'], 'sts');
    assert.deepEqual(p.policy['policy-string'], ['version: STSv1', 'mode: enforce', 'mx: *.rpt.test', 'max_age: 86400']);
    assert.deepEqual(p.policy['mx-host']!.sort(), ['mx-good.rpt.test', 'mx-self.rpt.test']);
    assert.deepEqual(p.summary, { 'total-successful-session-count': 3, 'total-failure-session-count': 3 });
    assert.deepEqual(p['failure-details'], [{
      'result-type': 'certificate-not-trusted', 'receiving-mx-hostname': 'mx-self.rpt.test',
      'receiving-ip': bed.mx.get('mx-self.rpt.test')!.address, 'failed-session-count': 3,
    }]);
    // The same report by HTTPS POST (RFC 8460 5.4).
    const post = bed.posts.at(-1)!;
    assert.equal(post.path, '/v1/tlsrpt');
    assert.equal(post.type, 'application/tlsrpt+gzip');
    assert.deepEqual(JSON.parse(gunzipSync(post.body).toString()), report);
    assert.deepEqual(await q.store.listTlsResults(day), [], 'counts of a reported day are dropped');

    // The report mail leaves through the door like any message, with its trace field; the
    // enforce policy of the report address's domain does not hold it back.
    await q.queue.runOnce();
    assert.deepEqual(await q.store.listQueue(), []);
    const t = bed.mx.get('mx.reports.test')!.server.transactions.at(-1)!;
    assert.equal(t.from, '');
    assert.match(t.data.toString(), /^Received: by mail\.example\.org \(Postern\) with ESMTPS id \d+\r\n\t\(version=TLSv1\.3 cipher=TLS_\w+ policy=mta-sts-enforce tls-required=no failed=certificate-not-trusted\)\r\n\tfor <tlsrpt@reports\.test>;\r\n/);
    assert.ok(t.data.subarray(t.data.length - mail.length).equals(mail), 'the report below it, unchanged');
    // RFC 8460 5.3: DKIM-signed by the sending domain; both signatures verify at the sink.
    const records = new Map(keys.map((k) => [`${k.selector}._domainkey.mail.example.org`, entryDnsRecord(keyDir, k)]));
    const resolver = async (name: string, rrtype: string) => {
      if (rrtype !== 'TXT' || !records.has(name)) throw Object.assign(new Error('no data'), { code: 'ENODATA' });
      return [[records.get(name)!]];
    };
    const verified = await dkimVerify(t.data, { resolver: resolver as never });
    assert.deepEqual(verified.results.map((r) => `${r.signingDomain} ${r.selector} ${r.status.result}`).sort(), keys.map((k) => `mail.example.org ${k.selector} pass`).sort());

    // RFC 8460 5.3: the session that delivered the report (failing reports.test's policy) is not
    // counted for the next report; an ordinary message's session there is.
    assert.equal(queued.isReport, true);
    await policy.flush();
    const reportsTest = async () => (await q.store.listTlsResults(day)).filter((r) => r.policyDomain === 'reports.test');
    assert.deepEqual(await reportsTest(), [], 'the report delivery is not counted');
    await q.enqueue('someone@reports.test');
    await q.queue.runOnce();
    await policy.flush();
    assert.deepEqual((await reportsTest()).map((r) => `${r.policyType} ${r.resultType} ${r.count}`), ['sts certificate-not-trusted 1']);
  });

  it('sessions to domains without a policy are reported as no-policy-found, to the domains that ask', async () => {
    const yesterday = new Date(Date.now() - 86400_000);
    const q0 = await bed.queue({ forDestination: () => Promise.reject(new Error('unused')) });
    const mtaSts = new MtaSts({ store: q0.store, resolveTxt: bed.dns.resolveTxt, fetch: { ca: bed.pki.caPem, port: bed.httpsPort, lookup: bed.lookup }, log: silentLogger });
    const policy = new OutboundTlsPolicy({ mtaSts, ca: [bed.pki.caPem], results: q0.store, now: () => yesterday, log: silentLogger });
    const q = await bed.queue(policy, { store: q0.store });
    for (const rcpt of ['a@np.test', 'b@np.test', 'c@np-plain.test', 'd@np-quiet.test']) await q.enqueue(rcpt);
    await q.queue.runOnce();
    await policy.flush();
    assert.deepEqual(await q.store.listQueue(), [], 'all delivered (np-plain.test in plain text)');

    const p0 = bed.posts.length;
    const sent = await sendTlsReports({ store: q.store, resolveTxt: bed.dns.resolveTxt, hostname: 'mail.example.org', https: { ca: bed.pki.caPem, lookup: bed.lookup }, log: silentLogger });
    assert.deepEqual(sent.map((s) => `${s.policyDomain} ${s.ok}`).sort(), ['np-plain.test true', 'np.test true'], 'np-quiet.test publishes no TLSRPT record');
    const reports = bed.posts.slice(p0).map((p) => JSON.parse(gunzipSync(p.body).toString()) as TlsReportJson);
    const byDomain = new Map(reports.map((r) => [r.policies[0]!.policy['policy-domain'], r]));
    assert.deepEqual(byDomain.get('np.test')!.policies, [{
      policy: { 'policy-type': 'no-policy-found', 'policy-string': [], 'policy-domain': 'np.test', 'mx-host': ['mx-np.rpt.test'] },
      summary: { 'total-successful-session-count': 2, 'total-failure-session-count': 0 },
    }]);
    assert.deepEqual(byDomain.get('np-plain.test')!.policies, [{
      policy: { 'policy-type': 'no-policy-found', 'policy-string': [], 'policy-domain': 'np-plain.test', 'mx-host': ['mx-np-plain.rpt.test'] },
      summary: { 'total-successful-session-count': 0, 'total-failure-session-count': 1 },
      'failure-details': [{ 'result-type': 'starttls-not-supported', 'receiving-mx-hostname': 'mx-np-plain.rpt.test', 'receiving-ip': bed.mx.get('mx-np-plain.rpt.test')!.address, 'failed-session-count': 1 }],
    }]);
  });
});

describe('TLS-RPT reports to our rua', () => {
  it('a report mailed to a local address over SMTP is kept by domain and day, once, and listed by the CLI', async () => {
    const h = await startHarness();
    try {
      const report = buildTlsReport({
        organization: 'Sender Org', contact: 'mailto:x@sender.test', reportId: 'r-42', day: '2026-12-01', policyDomain: 'example.test',
        counts: [
          { day: '2026-12-01', policyDomain: 'example.test', policyType: 'sts', policyString: ['version: STSv1', 'mode: enforce'], mxHost: 'mx.example.test', receivingIp: '192.0.2.1', resultType: 'success', count: 7 },
          { day: '2026-12-01', policyDomain: 'example.test', policyType: 'sts', policyString: ['version: STSv1', 'mode: enforce'], mxHost: 'mx.example.test', receivingIp: '192.0.2.1', resultType: 'certificate-expired', count: 2 },
        ],
      });
      const mail = tlsReportMessage({ from: 'tlsrpt@sender.test', to: 'alice@example.test', hostname: 'mx.sender.test', policyDomain: 'example.test', reportId: 'r-42', gz: gzipSync(JSON.stringify(report)), now: new Date() });
      const send = async (body: string) => {
        const c = await SmtpClient.connect(h.ports.smtp);
        await c.expect(220);
        await c.ehlo('mx.sender.test');
        await c.cmd('MAIL FROM:<>', 250);
        await c.cmd('RCPT TO:<alice@example.test>', 250);
        await c.cmd('DATA', 354);
        c.write(body.replace(/\r\n\./g, '\r\n..') + '.\r\n');
        await c.expect(250);
        c.close();
      };
      await send(mail.toString());
      await send(mail.toString());
      await send(message('bob@sender.test', 'alice@example.test', 'not a report'));
      const kept = await h.store.listTlsReports('example.test', '2026-12-01');
      assert.equal(kept.length, 1, 'kept once');
      assert.deepEqual(JSON.parse(kept[0]!.json), report);
      assert.equal((await h.inbox(h.alice.id)).length, 3, 'still delivered as mail too');
      writeFileSync(join(h.dir, 'postern.conf'), 'hostname: mail.example.test\nlisteners:\n  main:\n    ips: [127.0.0.1]\n    services: [smtp]\n');
      const out = execFileSync(process.execPath, ['dist/src/cli/main.js', '--dir', h.dir, 'tlsrpt', 'list', '--domain', 'example.test']).toString();
      assert.equal(out, '2026-12-01 example.test Sender Org r-42 sts success=7 failure=2 certificate-expired@mx.example.test=2\n');
    } finally {
      await h.close();
    }
  });
});
