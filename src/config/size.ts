// Sizes as an administrator writes them (config and CLI): bytes, or with a K, M or G suffix
// (binary: 1K = 1024 bytes, as Dovecot's quota settings), or "none" for no limit.

/** Largest size accepted: what a JavaScript number holds exactly. */
const MAX_SIZE = Number.MAX_SAFE_INTEGER;

const UNITS: Record<string, number> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 };

/** Bytes, or null for "none"; undefined when `text` is not a size. */
export function parseSize(text: string): number | null | undefined {
  const t = text.trim();
  if (t.toLowerCase() === 'none') return null;
  const m = /^(\d{1,16})([KMG]?)$/i.exec(t);
  if (!m) return undefined;
  const bytes = Number(m[1]) * UNITS[m[2]!.toUpperCase()]!;
  return bytes <= MAX_SIZE ? bytes : undefined;
}

/** A size for people: the largest unit that divides it exactly (what parseSize reads back). */
export function formatSize(bytes: number | null): string {
  if (bytes === null) return 'none';
  for (const u of ['G', 'M', 'K'] as const) if (bytes >= UNITS[u]! && bytes % UNITS[u]! === 0) return `${bytes / UNITS[u]!}${u}`;
  return String(bytes);
}
