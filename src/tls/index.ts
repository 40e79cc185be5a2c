// Public API of the TLS building blocks.

export { CertificateError, MIN_RSA_BITS, certificatePem, keyTypeOf, parseCertificate, type ParsedCertificate, type TlsKeyType } from './certificate.js';
export { isFingerprint, keyFingerprint, spkiFingerprint } from './fingerprint.js';
export {
  SERVER_CERT_DAYS,
  certificateForKey,
  ed25519KeyFromSeed,
  generateClientCertificate,
  generatePrivateKey,
  generateServerCertificate,
  loadPrivateKey,
  type CertificateOptions,
  type GeneratedKeyType,
  type KeyAndCertificate,
} from './generate.js';
export { pkcs12 } from './pkcs12.js';
export { TLS_EXPORTER_LABEL, channelBindingOf } from './channel-binding.js';
export { TLS_CIPHERS, acceptedTlsVersion, listenerTlsOptions, peerCertificateDer, type ListenerTlsOptions } from './server-context.js';
export { ListenerTls, ServerTls, type ListenerTlsSettings } from './server-tls.js';
export { RotatingTicketSecrets, type TicketSecretSource } from './ticket-keys.js';
