// Host and domain names as the configuration takes them (RFC 1123 2.1: letters, digits and
// hyphens, labels of 1-63 characters, at most 253 in all). `quickstart` checks with the same test
// as the config loader, so it never writes a config (or a certificate) that `serve` then refuses.

const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

export function isHostName(name: string): boolean {
  return HOSTNAME.test(name);
}
