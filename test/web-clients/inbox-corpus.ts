// A 1,000-message INBOX for the client walks (Roundcube, neomutt), built so that a client sorting or threading it the
// RFC 5256 way shows a different first page from one that sorts raw headers or local times:
// - eight messages whose base subjects sort first only once encoded words are decoded and
//   Re:/Fwd:/[blob]/(fwd)/[fwd: ...] are removed (RFC 5256 2.1);
// - Date headers in four time zones, in an order unlike the append order; the newest message in UTC
//   is not the one with the latest local time (RFC 5256 3: dates compare in UTC);
// - a five-message thread linked by References, one reply with a different subject, scattered
//   through the mailbox, with the newest dates (so its root heads the thread view);
// - internal dates (APPEND date-time, in yet other zones) in a third order.
// The expectations are written out here by hand, not computed by Postern's code.

import { ImapClient } from '../../src/imap/client/index.js';

export interface CorpusMessage {
  /** The Subject header as sent (may hold encoded words). */
  rawSubject: string;
  /** What a reader shows: encoded words decoded. */
  subject: string;
  /** The instant of the Date header. */
  date: Date;
  /** The internal date APPEND gives it (RFC 9051 2.3.3), in another order than date and sequence. */
  arrival: Date;
  messageId: string;
  references: string[];
  body: string;
}

export const CORPUS_SIZE = 1000;

/** Subjects whose base subjects sort first, in RFC 5256 order (ascending). */
export const SUBJECT_FIRST: { rawSubject: string; subject: string }[] = [
  { rawSubject: 'Re: Abacus meeting', subject: 'Re: Abacus meeting' },
  { rawSubject: `=?UTF-8?B?${Buffer.from('Abbey Road über alles').toString('base64')}?=`, subject: 'Abbey Road über alles' },
  { rawSubject: 'Fwd: Abide with me', subject: 'Fwd: Abide with me' },
  { rawSubject: '[list] Re: Able bodies', subject: '[list] Re: Able bodies' },
  { rawSubject: 'Absent (fwd)', subject: 'Absent (fwd)' },
  { rawSubject: 're: RE: Abstract art', subject: 're: RE: Abstract art' },
  { rawSubject: 'Fw: [Fwd: Absurd]', subject: 'Fw: [Fwd: Absurd]' },
  { rawSubject: '=?ISO-8859-1?Q?Re=3A_Abyss_=E0_la_carte?=', subject: 'Re: Abyss à la carte' },
];

export const GARDEN = {
  subject: 'Plan for the garden',
  /** Message-IDs, and the depth of each message in its thread. */
  ids: ['garden-1', 'garden-2', 'garden-3', 'garden-4', 'garden-5'].map((s) => `<${s}@example.test>`),
  depths: [0, 1, 2, 1, 1],
  subjects: ['Plan for the garden', 'Re: Plan for the garden', 'Re: Plan for the garden', 'Re: Plan for the garden', 'Seeds to order'],
};

const FILLER_WORDS = ['Budget', 'Meeting notes', 'Quarterly report', 'Lunch', 'Deploy', 'Invoice', 'Holiday plans', 'Server upgrade', 'Zebra crossing', 'Newsletter'];
const ZONES = [0, 120, -300, 330]; // minutes east of UTC

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const p2 = (n: number) => String(n).padStart(2, '0');

/** `d` as a clock in the zone `minutes` east of UTC, and that zone as +hhmm. */
function local(d: Date, minutes: number): { t: Date; zone: string } {
  const abs = Math.abs(minutes);
  return { t: new Date(d.getTime() + minutes * 60_000), zone: `${minutes < 0 ? '-' : '+'}${p2(Math.floor(abs / 60))}${p2(abs % 60)}` };
}

/** RFC 5322 3.3 date-time of `d` in the zone `minutes` east of UTC. */
function dateHeader(d: Date, minutes: number): string {
  const { t, zone } = local(d, minutes);
  return `${DAYS[t.getUTCDay()]}, ${t.getUTCDate()} ${MONTHS[t.getUTCMonth()]} ${t.getUTCFullYear()} ` +
    `${p2(t.getUTCHours())}:${p2(t.getUTCMinutes())}:${p2(t.getUTCSeconds())} ${zone}`;
}

/** RFC 9051 date-time (APPEND's internal date) of `d` in the zone `minutes` east of UTC. */
function internalDate(d: Date, minutes: number): string {
  const { t, zone } = local(d, minutes);
  return `"${p2(t.getUTCDate())}-${MONTHS[t.getUTCMonth()]}-${t.getUTCFullYear()} ${p2(t.getUTCHours())}:${p2(t.getUTCMinutes())}:${p2(t.getUTCSeconds())} ${zone}"`;
}

export interface Corpus {
  /** In append (sequence) order. */
  messages: CorpusMessage[];
  /** The raw RFC 5322 text of each, same order. */
  raw: string[];
  /** The APPEND date-time argument of each (in a zone of its own), same order. */
  internalDates: string[];
}

const BASE = Date.UTC(2024, 0, 1);
const HOUR = 3_600_000;

export function buildCorpus(to: string): Corpus {
  const messages: CorpusMessage[] = [];
  const zones: number[] = [];
  // Fillers: distinct instants (a permutation of 3-hour steps) and threads of two by References.
  for (let i = 0; i < CORPUS_SIZE; i++) {
    const word = FILLER_WORDS[i % FILLER_WORDS.length]!;
    const n = Math.floor(i / 20);
    const reply = i % 20 >= 10;
    const subject = `${reply ? 'Re: ' : ''}${word} ${n}`;
    const encoded = i % 7 === 3;
    messages.push({
      rawSubject: encoded ? `=?UTF-8?Q?${subject.replace(/ /g, '_')}?=` : subject,
      subject,
      date: new Date(BASE + ((i * 617) % CORPUS_SIZE) * 3 * HOUR),
      arrival: new Date(BASE + ((i * 389) % CORPUS_SIZE) * HOUR + 7 * 60_000),
      messageId: `<filler-${i}@example.test>`,
      references: reply ? [`<filler-${i - 10}@example.test>`] : [],
      body: `Filler message ${i}.`,
    });
    zones.push(ZONES[i % ZONES.length]!);
  }
  // The subject-sort messages replace fillers scattered through the mailbox.
  SUBJECT_FIRST.forEach((s, k) => {
    const at = 950 - k * 113;
    messages[at] = { ...messages[at]!, ...s, references: [], messageId: `<subject-${k}@example.test>`, body: `Sorted by subject: ${s.subject}.` };
  });
  // The garden thread: newest dates (after every filler), positions far apart, replies before
  // their parents in places.
  const gardenAt = [612, 37, 880, 301, 455];
  const newest = BASE + CORPUS_SIZE * 3 * HOUR;
  GARDEN.ids.forEach((id, k) => {
    const parent = [null, 0, 1, 0, 0][k];
    const chain: string[] = [];
    for (let p = parent; p !== null && p !== undefined; p = [null, 0, 1, 0, 0][p]) chain.unshift(GARDEN.ids[p]!);
    messages[gardenAt[k]!] = {
      rawSubject: GARDEN.subjects[k]!,
      subject: GARDEN.subjects[k]!,
      date: new Date(newest + (k + 1) * HOUR),
      arrival: messages[gardenAt[k]!]!.arrival,
      messageId: id,
      references: chain,
      body: k === 0 ? 'Tomatoes along the south wall, the pomegranate in a pot.' : `Garden reply ${k}.`,
    };
  });
  // The two newest in UTC disagree with their local clocks: garden-5 (UTC 05:00, shown at 00:00
  // -0500) is newer than garden-4 (UTC 04:00, shown at 09:30 +0530).
  zones[gardenAt[4]!] = -300;
  zones[gardenAt[3]!] = 330;
  const raw = messages.map((m, i) =>
    [
      'From: Carol Sender <carol@example.test>',
      `To: ${to}`,
      `Subject: ${m.rawSubject}`,
      `Date: ${dateHeader(m.date, zones[i]!)}`,
      `Message-ID: ${m.messageId}`,
      ...(m.references.length ? [`In-Reply-To: ${m.references.at(-1)}`, `References: ${m.references.join(' ')}`] : []),
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: 8bit',
      '',
      m.body,
      '',
    ].join('\r\n'),
  );
  // Internal dates in zones other than their Date header's.
  const internalDates = messages.map((m, i) => internalDate(m.arrival, ZONES[(i + 1) % ZONES.length]!));
  return { messages, raw, internalDates };
}

/** Appends the corpus in one MULTIAPPEND (RFC 3502) with non-synchronizing literals (RFC 7888). */
export async function appendCorpus(c: ImapClient, mailbox: string, corpus: Corpus): Promise<void> {
  const parts = corpus.raw.map((r, i) => ` (\\Seen) ${corpus.internalDates[i]} {${Buffer.byteLength(r, 'utf8')}+}\r\n${r}`);
  await c.raw(`APPEND ${mailbox}${parts.join('')}`);
}

/** The corpus sorted by internal date, oldest first (no two are equal). */
export function byArrival(corpus: Corpus): CorpusMessage[] {
  return [...corpus.messages].sort((a, b) => a.arrival.getTime() - b.arrival.getTime());
}

/** The corpus sorted by Date, newest first (RFC 5256 3: in UTC; ties by sequence number). */
export function byDateDescending(corpus: Corpus): CorpusMessage[] {
  return corpus.messages
    .map((m, seq) => ({ m, seq }))
    .sort((a, b) => b.m.date.getTime() - a.m.date.getTime() || b.seq - a.seq)
    .map((x) => x.m);
}
