// DKIM signatures on the report mail Postern makes itself (TLS-RPT aggregate reports: RFC 8460
// 5.3 says a report sent by mail must carry a valid signature of the reporting domain, else the
// receiver ignores it; DMARC aggregate reports, RFC 7489 7.2.1.1), made with the keys of the
// report's From domain (DIR/dkim/keys.json or the config's dkim: section, as for submitted mail).
// Signatures never use l= (the signer has no body length limit), as RFC 8460 5.3 asks.

import { MessageSource } from '../delivery/message-source.js';
import type { Logger } from '../log/logger.js';
import { dkimKeysFor } from '../smtp/server/dkim-keyring.js';
import { dkimSignatures } from '../smtp/server/dkim-sign.js';

/** Where the signing keys come from: the server's directory and its config's dkim: section. */
export type DkimKeySource = Parameters<typeof dkimKeysFor>[0];

/**
 * The message with DKIM-Signature fields on top, one per signing key of `domain`; unchanged when
 * the domain has no keys. A key that cannot be used is logged and the report goes unsigned: a
 * report held back for a broken key file helps nobody.
 */
export async function signReport(keys: DkimKeySource | undefined, domain: string, message: Buffer, log: Logger): Promise<Buffer> {
  if (!keys) return message;
  try {
    const list = dkimKeysFor(keys, domain);
    if (list.length === 0) {
      // Sent all the same (the receiver may still read it), but the admin is told what is missing.
      log.warn('report mail unsigned: no DKIM keys for its domain (postern dkim)', { domain });
      return message;
    }
    const fields = await dkimSignatures(list, domain, new MessageSource([message]));
    return Buffer.concat([Buffer.from(fields, 'utf8'), message]);
  } catch (err) {
    log.error('dkim signing of report failed', { err, domain });
    return message;
  }
}
