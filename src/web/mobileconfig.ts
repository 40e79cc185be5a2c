// The Apple profile the server hands out (apple-profile.ts), without a device key: the key is only
// ever in the browser that generated it, which builds the profile with the identity itself.

import { createHash } from 'node:crypto';
import { appleProfile } from './apple-profile.js';
import type { ClientSettings } from './client-settings.js';

export function appleMobileconfig(settings: ClientSettings, address: string): string {
  return appleProfile(settings, address, { sha256: (d) => createHash('sha256').update(d).digest() });
}
