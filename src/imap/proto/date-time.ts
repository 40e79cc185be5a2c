// IMAP dates (RFC 9051 9): date (SEARCH) and date-time (APPEND, INTERNALDATE).
import type { Cursor } from './cursor.js';
import type { DateOnly } from './types.js';

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const MONTHS_CAP = MONTHS.map((m) => m[0]!.toUpperCase() + m.slice(1));

function parseDateText(s: string): DateOnly | null {
  const m = /^(\d{1,2})-([A-Za-z]{3})-(\d{4})$/.exec(s);
  if (!m) return null;
  const month = MONTHS.indexOf(m[2]!.toLowerCase()) + 1;
  const day = Number(m[1]);
  if (month === 0 || day < 1 || day > 31) return null;
  return { year: Number(m[3]), month, day };
}

/** date = date-text / DQUOTE date-text DQUOTE */
export function parseDate(c: Cursor): DateOnly {
  const quoted = c.take('"');
  const s = c.takeWhile((ch) => ch === 0x2d || (ch >= 0x30 && ch <= 0x39) || (ch | 0x20) >= 0x61 && (ch | 0x20) <= 0x7a);
  if (quoted && !c.take('"')) c.fail('unterminated date');
  const d = parseDateText(s);
  if (!d) c.fail('expected a date like 1-Feb-2024');
  return d;
}

/** date-time = DQUOTE date-day-fixed "-" date-month "-" date-year SP time SP zone DQUOTE */
export function parseDateTime(c: Cursor): Date {
  const s = c.string('a date-time');
  const m = /^ ?(\d{1,2})-([A-Za-z]{3})-(\d{4}) (\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})$/.exec(s);
  const month = m ? MONTHS.indexOf(m[2]!.toLowerCase()) : -1;
  if (!m || month < 0) c.fail('expected a date-time like "01-Feb-2024 10:00:00 +0100"');
  const [day, year, hh, mm, ss, zh, zm] = [m[1], m[3], m[4], m[5], m[6], m[8], m[9]].map(Number) as number[];
  if (day! < 1 || day! > 31 || hh! > 23 || mm! > 59 || ss! > 60 || zm! > 59) c.fail('date-time out of range');
  const offset = (m[7] === '-' ? -1 : 1) * (zh! * 60 + zm!);
  return new Date(Date.UTC(year!, month, day!, hh!, mm!, ss!) - offset * 60000);
}

/** INTERNALDATE form: "17-Jul-1996 02:44:25 -0700" in the server's local offset (we use UTC). */
export function formatDateTime(d: Date): string {
  const day = String(d.getUTCDate()).padStart(2, '0');
  const t = [d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
  return `${day}-${MONTHS_CAP[d.getUTCMonth()]}-${d.getUTCFullYear()} ${t} +0000`;
}
