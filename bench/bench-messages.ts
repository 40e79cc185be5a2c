// The messages both servers get: the same bytes, so that the work per FETCH and SEARCH matches.

const WORDS = ['meeting', 'report', 'invoice', 'project', 'schedule', 'review', 'budget', 'draft', 'release', 'customer',
  'quarter', 'planning', 'summary', 'update', 'question', 'answer', 'server', 'mailbox', 'network', 'holiday'];

function text(seed: number, lines: number): string {
  let s = '';
  for (let l = 0; l < lines; l++) {
    const w: string[] = [];
    for (let k = 0; k < 10; k++) w.push(WORDS[(seed * 7 + l * 13 + k * 3) % WORDS.length]!);
    s += w.join(' ') + '\r\n';
  }
  return s;
}

const date = (i: number) => new Date(Date.UTC(2024, 0, 1, 8, 0, 0) + i * 60_000).toUTCString().replace('GMT', '+0000');

/** A message like a mail client's inbox holds: every third one multipart/alternative. */
export function seedMessage(i: number, to = 'user@example.test'): Buffer {
  const head = `From: "Sender ${i}" <sender${i % 17}@example.org>\r\nTo: <${to}>\r\nSubject: ${WORDS[i % WORDS.length]} number ${i}\r\n` +
    `Date: ${date(i)}\r\nMessage-ID: <seed-${i}@example.org>\r\nMIME-Version: 1.0\r\n`;
  if (i % 3 !== 0) return Buffer.from(`${head}Content-Type: text/plain; charset=utf-8\r\n\r\n${text(i, 30)}`);
  const b = `b-${i}-alt`;
  return Buffer.from(`${head}Content-Type: multipart/alternative; boundary="${b}"\r\n\r\n` +
    `--${b}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${text(i, 20)}` +
    `--${b}\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><body><p>${text(i, 20)}</p></body></html>\r\n--${b}--\r\n`);
}

/** What a client APPENDs (a sent message, a draft). */
export function appendMessage(n: number): Buffer {
  return Buffer.from(`From: <user@example.test>\r\nTo: <friend@example.org>\r\nSubject: draft ${n}\r\nDate: ${date(n)}\r\n` +
    `Message-ID: <append-${n}@example.test>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${text(n, 15)}`);
}

/** The rare word of the big mailbox: in exactly one message body. */
export const RARE_WORD = 'xylophonist';

/**
 * Big-mailbox message `i` of `count`: ~1.6 KB, the rare word only in one. Threads of four (a message
 * and three replies, with In-Reply-To and References), sent dates not in arrival order, so that
 * SORT and THREAD have real work.
 */
export function bigMailboxMessage(i: number, count: number): Buffer {
  const body = i === count - 7 ? `the rare word ${RARE_WORD} appears here\r\n${text(i, 10)}` : text(i, 12);
  const root = i - (i % 4);
  const refs = [];
  for (let r = root; r < i; r++) refs.push(`<big-${r}@example.org>`);
  const thread = refs.length ? `In-Reply-To: ${refs[refs.length - 1]}\r\nReferences: ${refs.join(' ')}\r\n` : '';
  const subject = i === root ? `message ${i}` : `Re: message ${root}`;
  // Dates shuffled within a day-sized window (7919 is prime: a permutation of each block of 1440).
  const sent = i - (i % 1440) + ((i * 7919) % 1440);
  return Buffer.from(`From: <a${i % 101}@example.org>\r\nTo: <big@example.test>\r\nSubject: ${subject}\r\nDate: ${date(sent)}\r\n` +
    `Message-ID: <big-${i}@example.org>\r\n${thread}\r\n${body}`);
}

/** Flags of big-mailbox message i: two thirds seen. */
export const bigMailboxFlags = (i: number): string[] => (i % 3 ? ['\\Seen'] : []);

/** Every bench user's password, on both servers. */
export const BENCH_PASSWORD = 'bench-password-1';
