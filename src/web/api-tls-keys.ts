// TLS public keys of the logged-in account (spec 2.1, 9): list, get, add, edit, remove.
//
// Add takes the certificate as JSON ({certificate: PEM} or {certificateDer: base64}) or as the raw
// body (PEM or DER, with the other fields in the query string, for curl --data-binary). Only the
// certificate is ever stored; a private key sent by mistake is refused and dropped. A key of another
// account answers 404, the same as an unknown one.
//
// Adding is a step-up action (step-up.ts): a login within the last minutes, or the current password
// in the request. Only then is the fingerprint looked up, and a key already registered gets one
// answer whether it is in this account or another, so that the answer names no other account.

import { CertificateError, certificatePem, parseCertificate, type ParsedCertificate } from '../tls/certificate.js';
import { isFingerprint } from '../tls/fingerprint.js';
import { StoreError } from '../store/errors.js';
import type { TlsPubKey } from '../store/types.js';
import { HttpError } from './http-error.js';
import { MAX_KEY_NAME_LENGTH } from './limits.js';
import type { Router } from './router.js';
import { requireSession } from './session-guard.js';
import { requireStepUp } from './step-up.js';
import type { WebApp } from './web-app.js';
import { booleanField, mediaType, readBody, readJsonObject, stringField, type WebRequest } from './web-request.js';
import { json, noContent } from './web-response.js';
import type { WebSession } from './web-sessions.js';

export interface TlsKeyJson {
  fingerprint: string;
  type: string;
  name: string;
  loginAddress: string;
  noImapPreauth: boolean;
  created: string;
  lastUsed: string | null;
  lastUsedIp: string | null;
  certificatePem?: string;
}

function keyJson(k: TlsPubKey, withCert = false): TlsKeyJson {
  return {
    fingerprint: k.fingerprint,
    type: k.type,
    name: k.name,
    loginAddress: k.loginAddress,
    noImapPreauth: k.noImapPreauth,
    created: k.created.toISOString(),
    lastUsed: k.lastUsed?.toISOString() ?? null,
    lastUsedIp: k.lastUsedIp,
    ...(withCert ? { certificatePem: certificatePem(k.certDer) } : {}),
  };
}

const RAW_TYPES = new Set(['application/x-pem-file', 'application/pkix-cert', 'application/x-x509-ca-cert', 'application/octet-stream', 'text/plain']);

const PRIVATE_KEY_MESSAGE =
  'this is a private key, not a certificate: it was not stored. Keep it secret and upload the certificate (the .crt/.cert.pem file) instead';

/** Raw-body uploads (curl --data-binary) carry the step-up password in this header. */
const PASSWORD_HEADER = 'x-current-password';

function alreadyRegistered(): HttpError {
  return new HttpError(409, 'exists', 'this key is already registered; make a new key pair for this device', 'certificate');
}

export function tlsKeyRoutes(router: Router, app: WebApp): void {
  const base = '/account/api/tlspubkeys';
  router.add('GET', base, async (r) => {
    const s = await requireSession(app, r, { stateChange: false });
    return json(200, { keys: (await app.ctx.store.listTlsPubKeys(s.accountId)).map((k) => keyJson(k)) });
  });
  router.add('GET', `${base}/:fingerprint`, async (r) => {
    const s = await requireSession(app, r, { stateChange: false });
    return json(200, keyJson(await ownKey(app, s, r), true));
  });
  router.add('POST', base, async (r) => {
    const s = await requireSession(app, r, { stateChange: true });
    return addKey(app, s, r);
  });
  router.add('PATCH', `${base}/:fingerprint`, async (r) => {
    const s = await requireSession(app, r, { stateChange: true });
    const key = await ownKey(app, s, r);
    const body = await readJsonObject(r.req);
    const change: { name?: string; loginAddress?: string; noImapPreauth?: boolean } = {};
    const name = stringField(body, 'name', false);
    if (name !== undefined) change.name = checkName(name);
    const loginAddress = stringField(body, 'loginAddress', false);
    if (loginAddress !== undefined) change.loginAddress = await ownAddress(app, s, loginAddress);
    const noImapPreauth = booleanField(body, 'noImapPreauth');
    if (noImapPreauth !== undefined) change.noImapPreauth = noImapPreauth;
    return json(200, keyJson(await app.ctx.store.updateTlsPubKey(key.fingerprint, change)));
  });
  router.add('DELETE', `${base}/:fingerprint`, async (r) => {
    const s = await requireSession(app, r, { stateChange: true });
    const key = await ownKey(app, s, r);
    // Live IMAP/SMTP sessions of this key end by themselves: the session registry polls (spec 2.5).
    await app.ctx.store.removeTlsPubKey(key.fingerprint);
    app.ctx.log.info('tls public key removed via web', { account: s.accountName, fingerprint: key.fingerprint, ip: r.ip });
    return noContent();
  });
}

async function ownKey(app: WebApp, s: WebSession, r: WebRequest): Promise<TlsPubKey> {
  const fp = r.params.fingerprint!;
  const key = isFingerprint(fp) ? await app.ctx.store.getTlsPubKey(fp) : null;
  if (!key || key.accountId !== s.accountId) throw new HttpError(404, 'notfound', 'no such TLS public key in your account');
  return key;
}

function checkName(name: string): string {
  const n = name.trim();
  if (n.length === 0) throw new HttpError(400, 'invalid', 'the name must not be empty', 'name');
  if (n.length > MAX_KEY_NAME_LENGTH) throw new HttpError(400, 'invalid', `the name is longer than ${MAX_KEY_NAME_LENGTH} characters`, 'name');
  if (/[\p{Cc}]/u.test(n)) throw new HttpError(400, 'invalid', 'the name contains control characters', 'name');
  return n;
}

/** The canonical form of an address of the session's account; 400 for any other. */
async function ownAddress(app: WebApp, s: WebSession, address: string): Promise<string> {
  let addr = null;
  try {
    addr = await app.ctx.store.lookupAddress(address.trim());
  } catch {
    // a syntactically bad address: same answer as a foreign one
  }
  if (!addr || addr.accountId !== s.accountId) throw new HttpError(400, 'invalid', `${address} is not an address of your account`, 'loginAddress');
  return addr.address;
}

async function addKey(app: WebApp, s: WebSession, r: WebRequest) {
  let fields: Record<string, unknown>;
  let certInput: Buffer | string;
  let password: string | undefined;
  if (RAW_TYPES.has(mediaType(r.req))) {
    certInput = await readBody(r.req);
    const q = r.url.searchParams;
    fields = {
      loginAddress: q.get('loginAddress') ?? undefined,
      name: q.get('name') ?? undefined,
      noImapPreauth: q.has('noImapPreauth') ? ['1', 'true', 'yes', ''].includes(q.get('noImapPreauth')!.toLowerCase()) : undefined,
    };
    // Node reads header bytes as latin1; the password was sent as UTF-8 (curl passes the bytes on).
    const h = r.req.headers[PASSWORD_HEADER];
    password = typeof h === 'string' ? Buffer.from(h, 'latin1').toString('utf8') : undefined;
  } else {
    fields = await readJsonObject(r.req);
    const pem = stringField(fields, 'certificate', false);
    const derB64 = stringField(fields, 'certificateDer', false);
    if (pem !== undefined && pem.trim() !== '') certInput = pem;
    else if (derB64 !== undefined && derB64 !== '') {
      if (!/^[A-Za-z0-9+/=\s_-]+$/.test(derB64)) throw new HttpError(400, 'certificate', 'certificateDer must be base64', 'certificate');
      certInput = Buffer.from(derB64, derB64.includes('-') || derB64.includes('_') ? 'base64url' : 'base64');
    } else throw new HttpError(400, 'missing', 'choose a certificate file or paste a PEM certificate', 'certificate');
    password = stringField(fields, 'password', false);
  }
  let cert: ParsedCertificate;
  try {
    cert = parseCertificate(certInput);
  } catch (err) {
    if (err instanceof CertificateError) {
      throw new HttpError(400, err.code, err.code === 'privatekey' ? PRIVATE_KEY_MESSAGE : err.message, 'certificate');
    }
    throw err;
  }
  const nameIn = stringField(fields, 'name', false);
  const name = nameIn !== undefined && nameIn.trim() !== '' ? checkName(nameIn) : cert.defaultName.slice(0, MAX_KEY_NAME_LENGTH);
  const loginIn = stringField(fields, 'loginAddress', false);
  const loginAddress = await ownAddress(app, s, loginIn !== undefined && loginIn.trim() !== '' ? loginIn : s.address);
  const noImapPreauth = booleanField(fields, 'noImapPreauth') ?? false;
  await requireStepUp(app, s, r, password);
  const existing = await app.ctx.store.getTlsPubKey(cert.fingerprint);
  if (existing) {
    if (existing.accountId !== s.accountId) {
      app.ctx.log.warn('tls public key add refused: registered to another account', { account: s.accountName, fingerprint: cert.fingerprint, ip: r.ip });
    }
    throw alreadyRegistered();
  }
  let key: TlsPubKey;
  try {
    key = await app.ctx.store.addTlsPubKey(s.accountId, { fingerprint: cert.fingerprint, type: cert.keyType, name, loginAddress, noImapPreauth, certDer: cert.der });
  } catch (err) {
    // Added by someone else since the lookup: the same answer.
    if (err instanceof StoreError && err.code === 'exists') throw alreadyRegistered();
    throw err;
  }
  app.ctx.log.info('tls public key added via web', { account: s.accountName, fingerprint: key.fingerprint, ip: r.ip });
  return json(201, keyJson(key));
}
