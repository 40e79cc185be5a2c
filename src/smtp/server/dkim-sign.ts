// DKIM signing of submitted mail (RFC 6376, RFC 8463) with the keys configured for the From
// domain. Key files are read once and again when they change, so a rotation needs no restart.

import { createPrivateKey } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { dkimSign } from 'mailauth';
import type { DkimKeyConfig } from '../../config/types.js';
import type { MessageSource } from '../../delivery/message-source.js';

interface LoadedKey {
  mtimeMs: number;
  pem: string;
  algorithm: 'ed25519-sha256' | 'rsa-sha256';
}

const keyCache = new Map<string, LoadedKey>();

async function loadKey(file: string): Promise<LoadedKey> {
  const st = await stat(file);
  const cached = keyCache.get(file);
  if (cached && cached.mtimeMs === st.mtimeMs) return cached;
  const pem = await readFile(file, 'utf8');
  const type = createPrivateKey(pem).asymmetricKeyType;
  if (type !== 'ed25519' && type !== 'rsa') throw new Error(`DKIM key ${file}: unsupported key type ${type}`);
  const k: LoadedKey = { mtimeMs: st.mtimeMs, pem, algorithm: type === 'ed25519' ? 'ed25519-sha256' : 'rsa-sha256' };
  keyCache.set(file, k);
  return k;
}

/**
 * DKIM-Signature fields (folded, ending in CRLF) for the message, one per configured key of
 * `domain`; '' when the domain has no keys. Throws when signing fails.
 */
export async function dkimSignatures(keys: readonly DkimKeyConfig[] | undefined, domain: string, message: MessageSource): Promise<string> {
  if (!keys || keys.length === 0) return '';
  const signatureData = [];
  for (const k of keys) {
    const loaded = await loadKey(k.keyFile);
    signatureData.push({ signingDomain: domain, selector: k.selector, privateKey: loaded.pem, algorithm: loaded.algorithm, canonicalization: 'relaxed/relaxed' });
  }
  const first = signatureData[0]!;
  const res = await dkimSign(Readable.from(message.chunks()), { ...first, signatureData });
  if (res.errors && res.errors.length) throw res.errors[0];
  const sigs = res.signatures.trim();
  return sigs ? sigs.replace(/\r?\n/g, '\r\n') + '\r\n' : '';
}
