// The parsed, validated configuration (postern.conf). See config/load.ts for the file format.

export type ServiceName = 'smtp' | 'submission' | 'submissions' | 'imap' | 'imaps' | 'http' | 'https';

/** Standard ports, added to a listener's port base (spec 1). */
export const SERVICE_PORTS: Record<ServiceName, number> = {
  smtp: 25, submission: 587, submissions: 465, imap: 143, imaps: 993, http: 80, https: 443,
};

export interface ListenerConfig {
  name: string;
  ips: string[];
  /** Resolved port per enabled service. */
  ports: Partial<Record<ServiceName, number>>;
  /** Request (never require) TLS client certificates on imaps/submissions and STARTTLS (spec 2.2). */
  requestClientCertificates: boolean;
}

export interface ImapLimits {
  maxLiteralSize: number;
  maxLiteralsPerCommand: number;
  maxLiteralBytesPerCommand: number;
  maxLineLength: number;
  appendLimit: number;
  idleTimeoutBeforeAuthMs: number;
  idleTimeoutAfterAuthMs: number;
  /** Concurrent connections per client address (IPv6: per /64) and per subnet (IPv4 /26, IPv6 /48). */
  maxConnectionsPerIp: number;
  maxConnectionsPerSubnet: number;
}

export interface SmtpLimits {
  maxMessageSize: number;
  maxRecipients: number;
  maxLineLength: number;
  /** As for IMAP, counted per SMTP listener. */
  maxConnectionsPerIp: number;
  maxConnectionsPerSubnet: number;
}

/** A DKIM signing key of one of our domains; the algorithm follows from the key type. */
export interface DkimKeyConfig {
  selector: string;
  keyFile: string;
}

/** Where the outbound queue delivers instead of the MX hosts: a smarthost or a test peer. */
export interface TransportConfig {
  host: string;
  port: number;
  /** implicit: TLS from the start; starttls: required; opportunistic: when offered; none. */
  tls: 'implicit' | 'starttls' | 'opportunistic' | 'none';
  /** Skip certificate verification (tests, self-signed smarthosts); explicit only. */
  tlsInsecure: boolean;
  username?: string;
  password?: string;
}

export interface Config {
  /** Directory that holds the config, database, messages and TLS files. */
  dir: string;
  hostname: string;
  tls: { certFile: string; keyFile: string } | null;
  listeners: ListenerConfig[];
  limits: { imap: ImapLimits; smtp: SmtpLimits };
  /** Auth failure delays; zero under test. */
  authFailureDelayMs: number;
  /** DKIM keys per domain (lower-case), used to sign submitted mail. */
  dkim: Record<string, DkimKeyConfig[]>;
  /** Transport overrides per recipient domain; the key "*" applies to every other domain. */
  transports: Record<string, TransportConfig>;
  /** DNS: the resolver `postern dns check` asks, "address[:port]" (null: the system's). */
  dns: { resolver: string | null };
  /** Our MTA-STS policy (RFC 8461 3.2), served at https://mta-sts.DOMAIN/.well-known/mta-sts.txt. */
  mtaSts: { mode: 'testing' | 'enforce' | 'none'; maxAgeSeconds: number };
}
