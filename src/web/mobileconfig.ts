// Apple configuration profile (.mobileconfig) with one IMAP mail account payload
// (com.apple.mail.managed, Apple "Configuration Profile Reference"). Unsigned: iOS and macOS show
// it as unverified, which is expected for a self-hosted server. UUIDs derive from the account and
// host so that importing a newer profile replaces the old one instead of adding a second account.

import { createHash } from 'node:crypto';
import type { ClientSettings } from './client-settings.js';
import { xmlEscape } from './xml-escape.js';

function stableUuid(seed: string): string {
  const h = createHash('sha256').update(seed).digest('hex');
  // RFC 9562 5.8 (version 8, custom) layout: version and variant bits set.
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`.toUpperCase();
}

type PlistValue = string | number | boolean | PlistValue[] | { [k: string]: PlistValue };

function plist(v: PlistValue, indent: string): string {
  if (typeof v === 'string') return `${indent}<string>${xmlEscape(v)}</string>`;
  if (typeof v === 'number') return `${indent}<integer>${v}</integer>`;
  if (typeof v === 'boolean') return `${indent}<${v}/>`;
  if (Array.isArray(v)) return `${indent}<array>\n${v.map((x) => plist(x, indent + '  ')).join('\n')}\n${indent}</array>`;
  const entries = Object.entries(v).map(([k, x]) => `${indent}  <key>${xmlEscape(k)}</key>\n${plist(x, indent + '  ')}`);
  return `${indent}<dict>\n${entries.join('\n')}\n${indent}</dict>`;
}

export function appleMobileconfig(settings: ClientSettings, address: string): string {
  const imap = settings.imap[0];
  const smtp = settings.submission[0];
  if (!imap || !smtp) throw new Error('no IMAP or submission listener with TLS configured');
  const id = `${settings.hostname}.postern.${address}`;
  const reverse = settings.hostname.split('.').reverse().join('.');
  const account: PlistValue = {
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
    PayloadIdentifier: `${reverse}.postern.mail.${stableUuid(id + ':mail')}`,
    PayloadType: 'com.apple.mail.managed',
    PayloadUUID: stableUuid(id + ':mail'),
    PayloadVersion: 1,
  };
  const profile: PlistValue = {
    PayloadContent: [account],
    PayloadDescription: `Mail settings for ${address}`,
    PayloadDisplayName: `${address} (${settings.hostname})`,
    PayloadIdentifier: `${reverse}.postern.${stableUuid(id)}`,
    PayloadRemovalDisallowed: false,
    PayloadType: 'Configuration',
    PayloadUUID: stableUuid(id),
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
