// YAML for config files that hold secrets (postern.conf, sendmail.conf). The yaml library's messages
// quote the source (the offending line, a token, a tag or alias name), and its warnings go to
// stderr through process.emitWarning: either could print a password. Here an error is reported by
// position and the library's error code only, and warnings (an unknown tag) are errors too.

import YAML from 'yaml';

/** A real config is a few KiB; a huge one is a mistake, and parsing it (deep YAML nesting) is slow. */
export const MAX_CONFIG_SIZE = 256 * 1024;

/** Aliases are resolved at most this often: an alias bomb is an error, not a hang. */
const MAX_ALIAS_COUNT = 100;

export class YamlTextError extends Error {
  override name = 'YamlTextError';
  constructor(
    /** The yaml library's error code (e.g. MISSING_CHAR), or ALIAS for an alias problem. */
    readonly code: string,
    readonly line?: number,
    readonly col?: number,
  ) {
    super(`bad YAML (${code.toLowerCase().replace(/_/g, ' ')})`);
  }
}

/**
 * Parses one YAML document with unique keys; throws YamlTextError, whose message quotes nothing
 * (the position is in `line` and `col`).
 */
export function parseYamlText(text: string): unknown {
  const doc = YAML.parseDocument(text, { prettyErrors: true, uniqueKeys: true, logLevel: 'silent' });
  const first = doc.errors[0] ?? doc.warnings[0];
  if (first) {
    const pos = first.linePos?.[0];
    throw new YamlTextError(first.code, pos?.line, pos?.col);
  }
  try {
    return doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch {
    // An unresolved alias (its message names the alias, which could be the secret) or too many.
    throw new YamlTextError('ALIAS');
  }
}
