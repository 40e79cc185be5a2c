// Apple configuration profile (.mobileconfig): one IMAP mail account payload (com.apple.mail.managed)
// and, optionally, the device key the user just generated as a PKCS#12 identity payload
// (com.apple.security.pkcs12), so one download sets a phone up with its key. Payload keys as in
// Apple's Device Management reference. Unsigned: iOS and macOS show it as unverified, expected for a
// self-hosted server. UUIDs derive from the account and host so that importing a newer profile
// replaces the old one instead of adding a second account.
//
// Pure code (no Node or DOM APIs): the server builds the plain profile, and the browser builds the
// one with the identity, so the private key never leaves the browser. The caller passes SHA-256.
//
// Apple documents no Mail payload key that binds an identity to the IMAP/SMTP login (the
// authentication values are EmailAuthNone/Password/CRAMMD5/NTLM/HTTPMD5), so the account keeps
// password login and the identity is installed beside it (whether Apple Mail then presents it
// when the server asks for a certificate, Apple does not document).

import type { ClientSettings } from './client-settings.js';
import { xmlEscape } from './xml-escape.js';

export interface ProfileIdentity {
  /** The PKCS#12 file, base64. Its password is not put in the profile: the device asks for it. */
  pkcs12Base64: string;
  /** Shown in the profile and used as the certificate file name. */
  name: string;
}

export interface ProfileOptions {
  sha256(data: Uint8Array): Uint8Array;
  identity?: ProfileIdentity;
}

type PlistValue = string | number | boolean | { data: string } | PlistValue[] | { [k: string]: PlistValue };

function hex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

function stableUuid(seed: string, sha256: ProfileOptions['sha256']): string {
  const h = hex(sha256(new TextEncoder().encode(seed)));
  // RFC 9562 5.8 (version 8, custom) layout: version and variant bits set.
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`.toUpperCase();
}

function isData(v: PlistValue): v is { data: string } {
  return typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 1 && typeof (v as { data?: unknown }).data === 'string';
}

function plist(v: PlistValue, indent: string): string {
  if (typeof v === 'string') return `${indent}<string>${xmlEscape(v)}</string>`;
  if (typeof v === 'number') return `${indent}<integer>${v}</integer>`;
  if (typeof v === 'boolean') return `${indent}<${v}/>`;
  if (Array.isArray(v)) return `${indent}<array>\n${v.map((x) => plist(x, indent + '  ')).join('\n')}\n${indent}</array>`;
  if (isData(v)) return `${indent}<data>${v.data.replace(/[^A-Za-z0-9+/=]/g, '')}</data>`;
  const entries = Object.entries(v).map(([k, x]) => `${indent}  <key>${xmlEscape(k)}</key>\n${plist(x, indent + '  ')}`);
  return `${indent}<dict>\n${entries.join('\n')}\n${indent}</dict>`;
}

export function appleProfile(settings: ClientSettings, address: string, o: ProfileOptions): string {
  const imap = settings.imap[0];
  const smtp = settings.submission[0];
  if (!imap || !smtp) throw new Error('no IMAP or submission listener with TLS configured');
  const id = `${settings.hostname}.postern.${address}`;
  const uuid = (seed: string) => stableUuid(seed, o.sha256);
  const reverse = settings.hostname.split('.').reverse().join('.');
  const content: PlistValue[] = [];
  if (o.identity) {
    // A new key is a new payload (its own UUID), so installing it never replaces another device's.
    const keySeed = `${id}:identity:${hex(o.sha256(new TextEncoder().encode(o.identity.pkcs12Base64)))}`;
    const fileName = `${o.identity.name.replace(/[^A-Za-z0-9._-]+/g, '-') || 'postern-key'}.p12`;
    content.push({
      PayloadCertificateFileName: fileName,
      PayloadContent: { data: o.identity.pkcs12Base64 },
      PayloadDescription: `Device key "${o.identity.name}" for ${address}`,
      PayloadDisplayName: o.identity.name,
      PayloadIdentifier: `${reverse}.postern.identity.${uuid(keySeed)}`,
      PayloadType: 'com.apple.security.pkcs12',
      PayloadUUID: uuid(keySeed),
      PayloadVersion: 1,
    });
  }
  content.push({
    EmailAccountDescription: address,
    EmailAccountName: address,
    EmailAccountType: 'EmailTypeIMAP',
    EmailAddress: address,
    IncomingMailServerAuthentication: 'EmailAuthPassword',
    IncomingMailServerHostName: imap.host,
    IncomingMailServerPortNumber: imap.port,
    IncomingMailServerUseSSL: true,
    IncomingMailServerUsername: address,
    OutgoingMailServerAuthentication: 'EmailAuthPassword',
    OutgoingMailServerHostName: smtp.host,
    OutgoingMailServerPortNumber: smtp.port,
    OutgoingMailServerUseSSL: true,
    OutgoingMailServerUsername: address,
    OutgoingPasswordSameAsIncomingPassword: true,
    PayloadDescription: `Mail account ${address}`,
    PayloadDisplayName: address,
    PayloadIdentifier: `${reverse}.postern.mail.${uuid(id + ':mail')}`,
    PayloadType: 'com.apple.mail.managed',
    PayloadUUID: uuid(id + ':mail'),
    PayloadVersion: 1,
  });
  const profile: PlistValue = {
    PayloadContent: content,
    PayloadDescription: `Mail settings for ${address}`,
    PayloadDisplayName: `${address} (${settings.hostname})`,
    PayloadIdentifier: `${reverse}.postern.${uuid(id)}`,
    PayloadRemovalDisallowed: false,
    PayloadType: 'Configuration',
    PayloadUUID: uuid(id),
    PayloadVersion: 1,
  };
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">',
    '<plist version="1.0">',
    plist(profile, ''),
    '</plist>',
    '',
  ].join('\n');
}
