// Certificates by ACME: what the server wires into its listeners.

import { join } from 'node:path';
import type { AcmeChallengeType, Config } from '../config/types.js';
import type { Logger } from '../log/logger.js';
import { AcmeManager } from './acme-manager.js';
import { CertificateStore } from './certificate-store.js';
import { ChallengeResponder } from './challenge-responder.js';

export { AcmeManager, renewalDueAt, retryDelayMs } from './acme-manager.js';
export { CertificateStore, type StoredCertificate } from './certificate-store.js';
export { ChallengeResponder, HTTP_CHALLENGE_PREFIX, ACME_TLS_ALPN } from './challenge-responder.js';
export { readStatus, type AcmeStatus, type NameStatus } from './status-file.js';
export { certificateNames } from './names.js';

/** DATA/acme: account key, status.json; certificates in DATA/acme/certs. */
export function acmeDir(dataDir: string): string {
  return join(dataDir, 'acme');
}

export function certificatesDir(dataDir: string): string {
  return join(acmeDir(dataDir), 'certs');
}

/** The certificate store every process loads (and watches), whether or not it runs the scheduler. */
export function openCertificateStore(dataDir: string): CertificateStore {
  const store = new CertificateStore(certificatesDir(dataDir));
  store.load();
  store.watch();
  return store;
}

export interface AcmeRuntime {
  certificates: CertificateStore;
  challenges: ChallengeResponder;
  /** Starts the scheduler once the listeners run (it needs to know which challenge types can be answered). */
  startScheduler(available: Set<AcmeChallengeType>, domains: () => Promise<string[]>, log: Logger): Promise<AcmeManager>;
  stop(): Promise<void>;
  /** Resolves when the scheduler has no order or poll in flight. */
  idle(): Promise<void>;
}

/** Null when tls.acme is not configured. */
export function createAcmeRuntime(config: Config): AcmeRuntime | null {
  const acme = config.tls?.acme;
  if (!acme) return null;
  const certificates = openCertificateStore(config.dir);
  const challenges = new ChallengeResponder();
  let manager: AcmeManager | null = null;
  return {
    certificates,
    challenges,
    async startScheduler(available, domains, log) {
      manager = new AcmeManager({ acme, hostname: config.hostname, acmeDir: acmeDir(config.dir), certificates, challenges, available, domains, log });
      await manager.start();
      return manager;
    },
    idle: () => manager?.idle() ?? Promise.resolve(),
    async stop() {
      await manager?.stop();
      certificates.close();
    },
  };
}
