// SASL identities: strict UTF-8 decoding, preparation of user names, and the SCRAM
// saslname escaping (RFC 5802 5.1: "," as "=2C", "=" as "=3D").

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Decodes UTF-8, returning null for invalid sequences (RFC 4422 requires UTF-8 identities). */
export function decodeUtf8(bytes: Uint8Array): string | null {
  try {
    return utf8.decode(bytes);
  } catch {
    return null;
  }
}

// Controls and unassigned/surrogate code points are never part of an identity (RFC 4013 2.3, RFC 8264 9.12).
const DISALLOWED_IN_NAME = /[\p{Cc}\p{Cn}\p{Cs}]/u;
const NON_ASCII_SPACE = /[\u00A0\u1680\u2000-\u200A\u202F\u205F\u3000]/gu;

/**
 * Prepares an authentication or authorization identity: non-ASCII spaces to U+0020 and NFC
 * (the PRECIS successor of SASLprep, RFC 8265; for ASCII names it is the identity). Returns
 * null for an identity with control or unassigned characters. Case folding is left to the
 * lookup (addresses compare case-insensitively in their domain part only).
 */
export function prepareIdentity(name: string): string | null {
  const mapped = name.replace(NON_ASCII_SPACE, ' ').normalize('NFC');
  return DISALLOWED_IN_NAME.test(mapped) ? null : mapped;
}

/** RFC 5802 5.1: decodes a saslname; null when "=" is not followed by "2C" or "3D". */
export function unescapeSaslname(value: string): string | null {
  if (/=(?!2C|3D)/.test(value)) return null;
  return value.replace(/=2C/g, ',').replace(/=3D/g, '=');
}

/** RFC 5802 5.1: encodes a name as saslname. */
export function escapeSaslname(value: string): string {
  return value.replace(/=/g, '=3D').replace(/,/g, '=2C');
}
