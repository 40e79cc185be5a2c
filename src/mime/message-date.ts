// The Date header field as a time (RFC 5322 3.3, with the obsolete forms of 4.3): for SORT DATE and
// THREAD (RFC 5256 2.2 "sent date"). Pure. Null when the value is not a date: callers then use the
// INTERNALDATE, as RFC 5256 2.2 says.

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

// RFC 5322 4.3 obs-zone: the US zones; "UT"/"GMT" are +0000; military letters count as -0000 (unknown).
const ZONES: Record<string, number> = {
  ut: 0, gmt: 0, z: 0, est: -5 * 60, edt: -4 * 60, cst: -6 * 60, cdt: -5 * 60,
  mst: -7 * 60, mdt: -6 * 60, pst: -8 * 60, pdt: -7 * 60,
};

// [day-of-week ","] day month year hour ":" minute [":" second] [zone]; CFWS between tokens.
const DATE = /^\s*(?:[a-z]{3,9}\s*,?\s*)?(\d{1,2})\s*[- ]\s*([a-z]{3})[a-z]*\.?\s*[- ]\s*(\d{2,4})\s+(\d{1,2})\s*:\s*(\d{1,2})(?:\s*:\s*(\d{1,2}))?(?:\s*([+-]\d{4}|[a-z]{1,5}))?/i;

/** Milliseconds since the epoch (UTC) of a Date field value, or null. */
export function parseMessageDate(value: string): number | null {
  // Comments (RFC 5322 3.2.2) are dropped first; they may hold anything, "(PST)" included.
  const v = value.includes('(') ? value.replace(/\([^()]*\)/g, ' ') : value;
  const m = DATE.exec(v);
  if (!m) return null;
  const day = Number(m[1]);
  const month = MONTHS.indexOf(m[2]!.toLowerCase());
  let year = Number(m[3]);
  // RFC 5322 4.3: two-digit years below 50 are 20xx, others (and three-digit years) 19xx.
  if (m[3]!.length === 2) year += year < 50 ? 2000 : 1900;
  else if (m[3]!.length === 3) year += 1900;
  const hh = Number(m[4]);
  const mm = Number(m[5]);
  const ss = m[6] === undefined ? 0 : Number(m[6]);
  if (month < 0 || day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60) return null;
  let offset = 0;
  const zone = m[7];
  if (zone !== undefined) {
    if (zone[0] === '+' || zone[0] === '-') {
      const zh = Number(zone.slice(1, 3));
      const zm = Number(zone.slice(3, 5));
      if (zm > 59) return null;
      offset = (zone[0] === '-' ? -1 : 1) * (zh * 60 + zm);
    } else offset = ZONES[zone.toLowerCase()] ?? 0;
  }
  const t = Date.UTC(year, month, day, hh, mm, Math.min(ss, 59)) - offset * 60_000;
  return Number.isFinite(t) ? t : null;
}
