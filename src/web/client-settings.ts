// Mail client settings derived from the configuration: the host name and the IMAP and submission
// ports with their TLS mode, implicit TLS first (RFC 8314 3.3 prefers it to STARTTLS).

import type { Config } from '../config/types.js';

export interface ServerEndpoint {
  host: string;
  port: number;
  /** tls: TLS from the first byte (IMAPS 993, submissions 465); starttls: upgrade after connecting. */
  security: 'tls' | 'starttls';
}

export interface ClientSettings {
  hostname: string;
  imap: ServerEndpoint[];
  submission: ServerEndpoint[];
}

export function clientSettings(config: Config): ClientSettings {
  const host = config.hostname;
  const collect = (implicit: 'imaps' | 'submissions', starttls: 'imap' | 'submission'): ServerEndpoint[] => {
    const out: ServerEndpoint[] = [];
    const add = (port: number | undefined, security: ServerEndpoint['security']) => {
      if (port !== undefined && !out.some((e) => e.port === port)) out.push({ host, port, security });
    };
    for (const l of config.listeners) add(l.ports[implicit], 'tls');
    // STARTTLS needs a certificate too; without TLS configured there is nothing safe to offer.
    if (config.tls) for (const l of config.listeners) add(l.ports[starttls], 'starttls');
    return out;
  };
  return { hostname: host, imap: collect('imaps', 'imap'), submission: collect('submissions', 'submission') };
}
