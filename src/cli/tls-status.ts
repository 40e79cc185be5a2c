// `postern tls status`: the ACME certificates of the data directory (names, issuer, expiry), when the
// next renewal is due and the last error, as the running server recorded them in DATA/acme/status.json.

import { acmeDir, CertificateStore, certificatesDir, readStatus, renewalDueAt } from '../acme/index.js';
import { parse, positionals } from './args.js';
import { CliError, EX_USAGE } from './cli-error.js';
import { loadConfigOrFail } from './open-store.js';

const USAGE = 'postern tls status';

export async function tlsCommand(dir: string, args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  if (sub !== 'status') throw new CliError(`usage: ${USAGE}`, EX_USAGE);
  const { positionals: p } = parse(rest, {}, USAGE);
  positionals(p, 0, 0, USAGE);
  const config = loadConfigOrFail(dir);
  console.log(renderTlsStatus(dir, config.tls?.acme ? config.tls.acme.directoryUrl : null));
}

export function renderTlsStatus(dataDir: string, directoryUrl: string | null): string {
  const store = new CertificateStore(certificatesDir(dataDir));
  store.load();
  const status = readStatus(acmeDir(dataDir));
  const names = new Set([...Object.keys(status.names), ...store.list().map((c) => c.name), ...store.errors.keys()]);
  const lines = [directoryUrl ? `ACME directory: ${directoryUrl}` : 'ACME: off (tls.acme is not configured)'];
  if (names.size === 0) lines.push('no certificates obtained yet');
  for (const name of [...names].sort()) {
    const cert = store.getCertificate(name);
    const st = status.names[name];
    lines.push(name);
    if (cert) {
      lines.push(`  issuer:        ${cert.issuer}`);
      lines.push(`  valid:         ${cert.notBefore.toISOString()} to ${cert.notAfter.toISOString()}${cert.notAfter.getTime() < Date.now() ? ' (EXPIRED)' : ''}`);
    } else {
      lines.push(`  certificate:   none${store.errors.has(name) ? ` (file unusable: ${store.errors.get(name)})` : ''}`);
    }
    const next = st?.nextRenewal ?? (cert ? renewalDueAt(cert).toISOString() : null);
    lines.push(`  next renewal:  ${next ?? 'not scheduled (server not running?)'}`);
    if (st?.renewalWindow) lines.push(`  CA window:     ${st.renewalWindow.start} to ${st.renewalWindow.end} (RFC 9773)`);
    if (st?.lastSuccess) lines.push(`  last renewal:  ${st.lastSuccess}`);
    lines.push(`  last error:    ${st?.lastError ? `${st.lastError} (at ${st.lastAttempt}, ${st.failures} failure${st.failures === 1 ? '' : 's'} in a row)` : 'none'}`);
  }
  return lines.join('\n');
}
