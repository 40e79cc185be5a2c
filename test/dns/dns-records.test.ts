// `postern dns records` and `postern dns check` against a real DNS server (unbound on loopback):
// the printed zone, loaded as is, checks OK; each deliberately broken record is found, with its fix.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import { postern } from '../cli/run-cli.js';
import { startUnbound, unboundAvailable, zoneLines } from './unbound.js';

const DOMAIN = 'example.org';
const HOST = 'mail.example.org';
let root: string;
let dir: string;
let conf: string;
let printed: string;

before(() => {
  root = mkdtempSync(join(tmpdir(), 'postern-dns-'));
  dir = join(root, 'd');
  const r = postern(['quickstart', '--dir', dir, '--hostname', HOST, '--listen', '127.0.0.1', '--password', 'secretpass', `alice@${DOMAIN}`]);
  assert.equal(r.status, 0, r.stderr);
  conf = readFileSync(join(dir, 'postern.conf'), 'utf8');
  const rec = postern(['--dir', dir, 'dns', 'records', DOMAIN]);
  assert.equal(rec.status, 0, rec.stderr);
  printed = rec.stdout;
});

after(() => rmSync(root, { recursive: true, force: true }));

function requireUnbound(t: { skip(msg: string): void }): boolean {
  if (unboundAvailable()) return true;
  if (process.env.CI === 'true') assert.fail('unbound is not installed (required when CI=true)');
  t.skip('unbound is not installed');
  return false;
}

/** The printed records plus the host's address (the listener is loopback, so none is printed). */
function zone(): string[] {
  return [...zoneLines(printed), `${HOST}. A 192.0.2.1`];
}

async function check(lines: string[]): Promise<{ status: number | null; stdout: string }> {
  const dns = await startUnbound([DOMAIN], lines);
  try {
    writeFileSync(join(dir, 'postern.conf'), `${conf}\ndns:\n  resolver: ${dns.address}\n`);
    const r = postern(['--dir', dir, 'dns', 'check', DOMAIN]);
    assert.equal(r.stderr, '');
    return r;
  } finally {
    await dns.stop();
  }
}

function failLines(out: string): string[] {
  return out.split('\n').filter((l) => l.startsWith('FAIL'));
}

test('dns records: every record the domain needs, as zone-file lines', () => {
  const lines = zoneLines(printed);
  const has = (re: RegExp) => assert.ok(lines.some((l) => re.test(l)), `missing ${re}\n${printed}`);
  has(/^example\.org\. MX 10 mail\.example\.org\.$/);
  has(/^example\.org\. TXT "v=spf1 mx ~all"$/);
  has(/^mail\.example\.org\. TXT "v=spf1 a -all"$/);
  has(/^d\d{8}e\._domainkey\.example\.org\. TXT "v=DKIM1; k=ed25519; p=[A-Za-z0-9+/]{43}="$/);
  has(/^d\d{8}r\._domainkey\.example\.org\. TXT "v=DKIM1; k=rsa; p=MIIB[^"]*" "[^"]+"$/);
  has(/^_dmarc\.example\.org\. TXT "v=DMARC1; p=reject; rua=mailto:postmaster@example\.org"$/);
  has(/^_mta-sts\.example\.org\. TXT "v=STSv1; id=[a-f0-9]{20}"$/);
  has(/^mta-sts\.example\.org\. CNAME mail\.example\.org\.$/);
  has(/^_smtp\._tls\.example\.org\. TXT "v=TLSRPTv1; rua=mailto:postmaster@example\.org"$/);
  has(/^_submissions\._tcp\.example\.org\. SRV 0 1 465 mail\.example\.org\.$/);
  has(/^_submission\._tcp\.example\.org\. SRV 10 1 587 mail\.example\.org\.$/);
  has(/^_imaps\._tcp\.example\.org\. SRV 0 1 993 mail\.example\.org\.$/);
  has(/^_imap\._tcp\.example\.org\. SRV 10 1 143 mail\.example\.org\.$/);
  has(/^_pop3s\._tcp\.example\.org\. SRV 0 0 0 \.$/);
  has(/^autoconfig\.example\.org\. CNAME mail\.example\.org\.$/);
  has(/^_25\._tcp\.mail\.example\.org\. TLSA 3 1 1 [0-9a-f]{64}$/);
  assert.match(printed, /^; example\.org\. CAA 0 issue /m, 'CAA as a comment without ACME');
  // Quickstart printed the same zone.
  const again = postern(['--dir', dir, 'dns', 'records', 'other.example']);
  assert.equal(again.status, 65);
  assert.match(again.stderr, /other\.example is not one of our domains/);
});

test('dns check: the printed zone as published is all OK (exit 0)', async (t) => {
  if (!requireUnbound(t)) return;
  const r = await check(zone());
  assert.equal(r.status, 0, r.stdout);
  assert.deepEqual(failLines(r.stdout), []);
  assert.match(r.stdout, /^OK {4}MX {4}example\.org$/m);
  assert.match(r.stdout, /^OK {4}TLSA  _25\._tcp\.mail\.example\.org$/m);
  assert.match(r.stdout, /^OK {4}CNAME mta-sts\.example\.org$/m, 'CNAME followed to the address');
  assert.match(r.stdout, /all records OK/);
});

/** Runs check on the zone changed by `edit` and returns the one FAIL line and its fix. */
async function broken(edit: (lines: string[]) => string[]): Promise<{ fail: string; fix: string }> {
  const r = await check(edit(zone()));
  assert.equal(r.status, 65, r.stdout);
  const fails = failLines(r.stdout);
  assert.equal(fails.length, 1, r.stdout);
  const lines = r.stdout.split('\n');
  const fix = lines[lines.indexOf(fails[0]!) + 1]!;
  assert.match(r.stdout, /1 record\(s\) to fix/);
  return { fail: fails[0]!, fix: fix.trim() };
}

const printedLine = (re: RegExp) => zoneLines(printed).find((l) => re.test(l))!;

test('dns check finds each broken record and prints the exact fix', async (t) => {
  if (!requireUnbound(t)) return;

  let b = await broken((z) => z.filter((l) => !/ MX /.test(l)));
  assert.equal(b.fail, 'FAIL  MX    example.org: no MX record: other servers cannot deliver to the domain');
  assert.equal(b.fix, `fix: add: ${printedLine(/ MX /)}`);

  b = await broken((z) => z.map((l) => (l === 'example.org. TXT "v=spf1 mx ~all"' ? 'example.org. TXT "v=spf1 ip4:198.51.100.7 -all"' : l)));
  assert.equal(b.fail, 'FAIL  TXT   example.org: "v=spf1 ip4:198.51.100.7 -all" does not authorize mail.example.org: mail from it fails SPF');
  assert.equal(b.fix, 'fix: replace it with: example.org. TXT "v=spf1 mx ~all"');

  const ed = printedLine(/^d\d{8}e\._domainkey/);
  const selector = ed.split('.')[0]!;
  b = await broken((z) => z.filter((l) => l !== ed));
  assert.equal(b.fail, `FAIL  TXT   ${selector}._domainkey.example.org: no DKIM record for selector ${selector}: signatures with it fail`);
  assert.equal(b.fix, `fix: add: ${ed}`);

  const rsa = printedLine(/^d\d{8}r\._domainkey/);
  const rsaSelector = rsa.split('.')[0]!;
  const other = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
  b = await broken((z) => z.map((l) => (l === rsa ? `${rsaSelector}._domainkey.example.org. TXT "v=DKIM1; k=rsa; p=${other}"` : l)));
  assert.equal(b.fail, `FAIL  TXT   ${rsaSelector}._domainkey.example.org: selector ${rsaSelector} publishes a different key: signatures with ours fail`);
  assert.equal(b.fix, `fix: replace it with: ${rsa}`);

  b = await broken((z) => z.filter((l) => !l.startsWith('_dmarc.')));
  assert.equal(b.fail, 'FAIL  TXT   _dmarc.example.org: no DMARC record: receivers apply no policy and send no reports');
  assert.equal(b.fix, `fix: add: ${printedLine(/^_dmarc\./)}`);

  b = await broken((z) => z.map((l) => (l.startsWith('_mta-sts.') ? '_mta-sts.example.org. TXT "v=STSv1;"' : l)));
  assert.equal(b.fail, 'FAIL  TXT   _mta-sts.example.org: "v=STSv1;" has no id= (RFC 8461 3.1): senders ignore it');
  assert.equal(b.fix, `fix: replace it with: ${printedLine(/^_mta-sts\./)}`);

  const tlsa = printedLine(/ TLSA /);
  b = await broken((z) => z.map((l) => (l === tlsa ? `_25._tcp.${HOST}. TLSA 3 1 1 ${'ab'.repeat(32)}` : l)));
  assert.equal(b.fail, "FAIL  TLSA  _25._tcp.mail.example.org: TLSA records do not match our certificate's key: DANE senders will refuse to deliver");
  assert.equal(b.fix, `fix: replace it with: ${tlsa} (publish it before removing the old one)`);
});

test('dns check: a TLSA answer too big for UDP is fetched over TCP (RFC 7766) and still matched', async (t) => {
  if (!requireUnbound(t)) return;
  // 40 extra SHA-512 records: about 3.5 KB, past the 1232-byte UDP size we advertise.
  const extra = Array.from({ length: 40 }, (_, i) => `_25._tcp.${HOST}. TLSA 3 1 2 ${i.toString(16).padStart(2, '0').repeat(64)}`);
  const r = await check([...zone(), ...extra]);
  assert.equal(r.status, 0, r.stdout);
  assert.match(r.stdout, /^OK {4}TLSA  _25\._tcp\.mail\.example\.org$/m);
});

test('CAA under ACME: the issuer with our account URI (RFC 8657), printed and checked', async (t) => {
  const acmeConf = conf.replace('  keyFile: tls/key.pem\n', '  keyFile: tls/key.pem\n  acme:\n    directoryUrl: https://acme-v02.api.letsencrypt.org/directory\n');
  assert.notEqual(acmeConf, conf);
  const account = 'https://acme-v02.api.letsencrypt.org/acme/acct/123456';
  const records = (): string => {
    writeFileSync(join(dir, 'postern.conf'), acmeConf);
    try {
      const r = postern(['--dir', dir, 'dns', 'records', DOMAIN]);
      assert.equal(r.status, 0, r.stderr);
      return r.stdout;
    } finally {
      writeFileSync(join(dir, 'postern.conf'), conf);
    }
  };
  // Before the first order the account is unknown: the issuer alone, and a note saying so.
  assert.match(records(), /^example\.org\. CAA 0 issue "letsencrypt\.org"$/m);
  mkdirSync(join(dir, 'acme'), { recursive: true });
  writeFileSync(join(dir, 'acme', 'account-url.txt'), `${account}\n`);
  try {
    const out = records();
    const caa = `example.org. CAA 0 issue "letsencrypt.org; accounturi=${account}"`;
    assert.ok(zoneLines(out).includes(caa), out);
    if (!requireUnbound(t)) return;
    const withAcme = async (lines: string[]) => {
      const dns = await startUnbound([DOMAIN], lines);
      try {
        writeFileSync(join(dir, 'postern.conf'), `${acmeConf}\ndns:\n  resolver: ${dns.address}\n`);
        return postern(['--dir', dir, 'dns', 'check', DOMAIN]);
      } finally {
        writeFileSync(join(dir, 'postern.conf'), conf);
        await dns.stop();
      }
    };
    const good = await withAcme([...zoneLines(out), `${HOST}. A 192.0.2.1`]);
    assert.equal(good.status, 0, good.stdout);
    assert.match(good.stdout, /^OK +CAA +example\.org$/m);
    const other = await withAcme([...zoneLines(out).filter((l) => !l.includes(' CAA ')), 'example.org. CAA 0 issue "otherca.example"', `${HOST}. A 192.0.2.1`]);
    assert.notEqual(other.status, 0);
    const fail = failLines(other.stdout).join('\n');
    assert.match(fail, /CAA allows otherca\.example, not letsencrypt\.org/);
    assert.match(other.stdout, new RegExp(`replace it with: ${caa.replace(/[.?*+^$[\]\\(){}|-]/g, '\\$&')}`));
  } finally {
    rmSync(join(dir, 'acme'), { recursive: true, force: true });
  }
});
