// UIDONLY (RFC 9586): once ENABLEd, the session uses UIDs only. Commands that take message sequence
// numbers are refused with BAD [UIDREQUIRED] (3.2: FETCH, STORE, SEARCH, COPY, MOVE, SORT, THREAD and
// REPLACE without UID; 3.5: the sequence-set search key, also in UID commands; 3.7: the QRESYNC
// sequence match data); FETCH responses become UIDFETCH (3.3) and EXPUNGE becomes VANISHED (3.4).
import type { Command, SearchKey } from '../proto/types.js';

function keyUsesSeq(k: SearchKey): boolean {
  switch (k.op) {
    case 'seq':
      // `$` (RFC 5182) is the saved result, kept as UIDs: not a message number.
      return k.set.kind !== 'saved';
    case 'and':
      return k.keys.some(keyUsesSeq);
    case 'or':
      return keyUsesSeq(k.a) || keyUsesSeq(k.b);
    case 'not':
      return keyUsesSeq(k.key);
    default:
      return false;
  }
}

/** Why a command may not run once UIDONLY is enabled, or null when it may. */
export function uidOnlyRefusal(cmd: Command): string | null {
  switch (cmd.name) {
    case 'FETCH':
    case 'STORE':
    case 'COPY':
    case 'MOVE':
    case 'REPLACE':
      return cmd.uid ? null : `${cmd.name} takes message sequence numbers; use UID ${cmd.name}`;
    case 'SEARCH':
    case 'SORT':
    case 'THREAD':
      if (!cmd.uid) return `${cmd.name} returns message sequence numbers; use UID ${cmd.name}`;
      return keyUsesSeq(cmd.key) ? 'message sequence numbers in search criteria; use UID with a set' : null;
    case 'ESEARCH':
      // RFC 7377 2.1: answered with UIDs, but a sequence-set key still names message numbers.
      return keyUsesSeq(cmd.key) ? 'message sequence numbers in search criteria; use UID with a set' : null;
    case 'SELECT':
    case 'EXAMINE':
      return cmd.qresync?.seqMatch ? 'QRESYNC sequence match data uses message sequence numbers' : null;
    default:
      return null;
  }
}

/** The start of a FETCH response: `n FETCH`, or `uid UIDFETCH` with UIDONLY (RFC 9586 3.3). */
export function fetchHead(uidOnly: boolean, msn: number, uid: number): string {
  return uidOnly ? `${uid} UIDFETCH` : `${msn} FETCH`;
}
