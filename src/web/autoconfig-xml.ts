// Thunderbird autoconfig file (clientConfig version 1.1, as documented at
// https://wiki.mozilla.org/Thunderbird:Autoconfiguration:ConfigFileFormat).

import type { ClientSettings, ServerEndpoint } from './client-settings.js';
import { xmlEscape } from './xml-escape.js';

function server(kind: 'incomingServer type="imap"' | 'outgoingServer type="smtp"', e: ServerEndpoint, username: string): string {
  const close = kind.split(' ')[0]!;
  return [
    `    <${kind}>`,
    `      <hostname>${xmlEscape(e.host)}</hostname>`,
    `      <port>${e.port}</port>`,
    `      <socketType>${e.security === 'tls' ? 'SSL' : 'STARTTLS'}</socketType>`,
    `      <username>${xmlEscape(username)}</username>`,
    `      <authentication>password-cleartext</authentication>`,
    // A device key (TLS client certificate) logs in too: IMAP PREAUTH or SASL EXTERNAL.
    `      <authentication>TLS-client-cert</authentication>`,
    `    </${close}>`,
  ].join('\n');
}

/** `username` is the address, or `%EMAILADDRESS%` for the anonymous well-known file. */
export function thunderbirdAutoconfig(settings: ClientSettings, domain: string, username: string): string {
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<clientConfig version="1.1">',
    `  <emailProvider id="${xmlEscape(domain)}">`,
    `    <domain>${xmlEscape(domain)}</domain>`,
    `    <displayName>${xmlEscape(domain)}</displayName>`,
    `    <displayShortName>${xmlEscape(domain)}</displayShortName>`,
    ...settings.imap.map((e) => server('incomingServer type="imap"', e, username)),
    ...settings.submission.map((e) => server('outgoingServer type="smtp"', e, username)),
    '  </emailProvider>',
    '</clientConfig>',
    '',
  ].join('\n');
}
