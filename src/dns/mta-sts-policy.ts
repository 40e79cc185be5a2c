// Our MTA-STS policy (RFC 8461 3.2) and its id: the id is derived from the policy text, so any change
// of mode, MX host or max_age gives a new id, and senders fetch the policy again (RFC 8461 3.1).

import { createHash } from 'node:crypto';
import type { Config } from '../config/types.js';

export function mtaStsPolicy(config: Pick<Config, 'hostname' | 'mtaSts'>): string {
  return [
    'version: STSv1',
    `mode: ${config.mtaSts.mode}`,
    `mx: ${config.hostname}`,
    `max_age: ${config.mtaSts.maxAgeSeconds}`,
    '',
  ].join('\r\n');
}

/** RFC 8461 3.1: id is 1 to 32 letters and digits. */
export function mtaStsId(policy: string): string {
  return createHash('sha256').update(policy).digest('hex').slice(0, 20);
}
