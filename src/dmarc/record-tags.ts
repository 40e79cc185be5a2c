// The tags of a DMARC record (RFC 7489 6.3) that aggregate reports need: the published policy
// (echoed in <policy_published>) and where reports go (rua, mailto: URIs only, 6.2).

export interface PublishedPolicy {
  domain: string;
  adkim: 'r' | 's';
  aspf: 'r' | 's';
  p: string;
  sp: string;
  pct: number;
  /** Report addresses from rua= (mailto: only; a "!size" limit is dropped). */
  rua: string[];
}

export function parseRecordTags(domain: string, text: string): PublishedPolicy {
  const tags = new Map<string, string>();
  for (const part of text.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) tags.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).trim());
  }
  const p = (tags.get('p') ?? 'none').toLowerCase();
  const pct = Number(tags.get('pct') ?? '100');
  const rua = (tags.get('rua') ?? '').split(',').map((u) => u.trim()).filter((u) => /^mailto:/i.test(u))
    .map((u) => decodeURIComponent(u.slice(7).replace(/!.*$/, ''))).filter((a) => /^[^@\s]+@[^@\s]+$/.test(a));
  return {
    domain,
    adkim: tags.get('adkim')?.toLowerCase() === 's' ? 's' : 'r',
    aspf: tags.get('aspf')?.toLowerCase() === 's' ? 's' : 'r',
    p,
    sp: (tags.get('sp') ?? p).toLowerCase(),
    pct: Number.isInteger(pct) && pct >= 0 && pct <= 100 ? pct : 100,
    rua,
  };
}
