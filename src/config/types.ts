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
  /** The per-command total before login. */
  maxLiteralBytesBeforeAuth: number;
  maxLineLength: number;
  appendLimit: number;
  idleTimeoutBeforeAuthMs: number;
  idleTimeoutAfterAuthMs: number;
  /** Concurrent connections per client address (IPv6: per /64) and per subnet (IPv4 /26, IPv6 /48). */
  maxConnectionsPerIp: number;
  maxConnectionsPerSubnet: number;
  /** Mailboxes one multi-mailbox ESEARCH (RFC 7377) may search. */
  maxSearchMailboxes: number;
  /** METADATA (RFC 5464): octets of one value, entries per mailbox or server, octets per account. */
  metadataMaxValueSize: number;
  metadataMaxEntries: number;
  metadataMaxAccountBytes: number;
  /** NOTIFY (RFC 5465): notifications waiting per session before NOTIFICATIONOVERFLOW. */
  notifyQueueLimit: number;
}

export interface SmtpLimits {
  maxMessageSize: number;
  maxRecipients: number;
  maxLineLength: number;
  /** As for IMAP, counted per SMTP listener. */
  maxConnectionsPerIp: number;
  maxConnectionsPerSubnet: number;
}

/** Password verification for PLAIN, LOGIN and web logins (auth/hash-pool.ts, auth/credential-cache.ts). */
export interface PasswordLimits {
  /** Threads that run scrypt, apart from libuv's pool (which fs uses). */
  hashWorkers: number;
  /** Verifications that may wait for a thread; over it, a temporary failure at once. */
  hashQueue: number;
  /** Verified-credential cache entries; 0 turns the cache off. */
  cacheEntries: number;
  cacheTtlSeconds: number;
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

/** The `auth:` section: see AuthLimits in auth/limits.ts for what each means. */
export interface AuthPolicyConfig {
  failuresBeforeDelay: number;
  maxDelayMs: number;
  maxFailuresPerConnection: number;
  /** Budgets per minute and per day, each [address, middle subnet, large subnet]. */
  windows: { ms: number; limits: [number, number, number] }[];
  cleartextFromLoopback: boolean;
}

/** Outbound delivery (the queue). */
export interface OutboundConfig {
  /** Connect to loopback, link-local and private addresses that an MX, A/AAAA record or address
   * literal gives (intranet relays). Off by default; transports are never checked. */
  allowPrivateAddresses: boolean;
  /** Look up and apply recipient domains' MTA-STS policies (RFC 8461). Default true. */
  mtaSts: boolean;
  /** A DNSSEC-validating resolver on loopback ("127.0.0.1" or "127.0.0.1:5353"): all outbound
   * DNS goes through it and DANE (RFC 7672) applies. Null: system resolver, no DANE. */
  dnssecResolver: { host: string; port: number } | null;
}

export type AcmeChallengeType = 'tls-alpn-01' | 'http-01';

/** Certificates by ACME (RFC 8555); see src/acme/ and docs/configuration.md "tls.acme". */
export interface AcmeConfig {
  directoryUrl: string;
  /** Account contact URLs (mailto:...). */
  contact: string[];
  /** Per host name: true adds a name, false removes one of the default names. */
  names: Record<string, boolean>;
  /** Challenge types in order of preference; a type is used only when its listener runs. */
  challenges: AcmeChallengeType[];
  /** Extra CA certificates (PEM file) to trust for the directory's HTTPS (a private CA). */
  caFile?: string;
}

export interface Config {
  /** Directory that holds the config, database, messages and TLS files. */
  dir: string;
  hostname: string;
  /** The fallback certificate (self-signed by quickstart); ACME certificates are picked by SNI. */
  tls: { certFile: string; keyFile: string; acme?: AcmeConfig } | null;
  listeners: ListenerConfig[];
  /** `passwords` is always set by parseConfig; absent in hand-made test configs (defaults apply). */
  limits: { imap: ImapLimits; smtp: SmtpLimits; passwords?: PasswordLimits };
  /** Auth failure delay step; zero under test. */
  authFailureDelayMs: number;
  /** Overrides of the attempt policy (auth/limits.ts); absent: the defaults. */
  auth?: Partial<AuthPolicyConfig>;
  /** DKIM keys per domain (lower-case), used to sign submitted mail. */
  dkim: Record<string, DkimKeyConfig[]>;
  /** Transport overrides per recipient domain; the key "*" applies to every other domain. */
  transports: Record<string, TransportConfig>;
  /** Storage quota of accounts without one of their own, in bytes; null for none. */
  quota: { default: number | null };
  outbound: OutboundConfig;
  /** DNS: the resolver `postern dns check` asks, "address[:port]" (null: the system's). */
  dns: { resolver: string | null };
  /** Our MTA-STS policy (RFC 8461 3.2), served at https://mta-sts.DOMAIN/.well-known/mta-sts.txt. */
  mtaSts: { mode: 'testing' | 'enforce' | 'none'; maxAgeSeconds: number };
  /** How to reach the administrator, a URI (IMAP METADATA /shared/admin); absent: mailto:postmaster@hostname. */
  adminContact?: string;
  /** DMARC enforcement on incoming mail; absent: the defaults. */
  dmarc?: DmarcConfig;
  /** The per-account junk filter; absent: off. */
  junk?: JunkConfig;
  /** Worker processes of `postern serve` (docs/scaling.md); absent: one per core. */
  workers?: number;
}

export interface JunkConfig {
  enabled: boolean;
  /** Score (0..1) from which mail goes to Junk, for accounts without their own. */
  threshold: number;
}

export interface DnsConfig {
  /** "IP" or "IP:PORT" ("[IPv6]:PORT") of a recursive resolver; null: the system's resolvers. */
  resolver: string | null;
}

export interface DmarcConfig {
  /** RFC5322.From domains (and their subdomains) whose DMARC failures are not enforced for any
   * account: senders known to break DMARC. Never applies to our own domains. */
  exceptions: string[];
  /** Apply the policies (default); false: only record the verdicts (the behaviour before). */
  enforce: boolean;
  /** Our rua addresses: aggregate reports mailed to them are read and kept (postern dmarc received). */
  reportAddresses: string[];
}
