// sendmail's command line (spec 8), as cron, PHP mail() and scripts call it. Options that only
// matter to a full MTA (-oem, -odi, -B 8BITMIME, -F name, -bm, -v, ...) are accepted and ignored.

import { SendmailError } from './sendmail-error.js';
import { EX_USAGE } from './exit-codes.js';

export interface SendmailArgs {
  /** -t: recipients from To/Cc/Bcc. */
  extractRecipients: boolean;
  /** -f: envelope sender. */
  from?: string;
  /** -i / -oi: a lone "." does not end the message. */
  ignoreDots: boolean;
  recipients: string[];
}

/** Options that take a value (attached, `-fme`, or next, `-f me`). */
const WITH_VALUE = new Set(['f', 'r', 'F', 'B', 'N', 'R', 'V', 'X', 'L', 'O', 'C', 'h', 'p', 'q']);

export function parseSendmailArgs(argv: string[]): SendmailArgs {
  const out: SendmailArgs = { extractRecipients: false, ignoreDots: false, recipients: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      out.recipients.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith('-') || a === '-') {
      out.recipients.push(a);
      continue;
    }
    const letter = a[1];
    if (letter === 'o') {
      if (a === '-oi') out.ignoreDots = true; // -oi, same as -i; other -oX are MTA options
      continue;
    }
    if (letter === 'b') {
      if (a !== '-bm') throw new SendmailError(`unsupported mode ${a}: only sending (-bm) is supported`, EX_USAGE);
      continue;
    }
    if (WITH_VALUE.has(letter)) {
      let value = a.slice(2);
      if (value === '') {
        if (i + 1 >= argv.length) throw new SendmailError(`option -${letter} needs a value`, EX_USAGE);
        value = argv[++i];
      }
      if (letter === 'f' || letter === 'r') out.from = value;
      continue;
    }
    // Flags may be grouped: -ti
    for (const c of a.slice(1)) {
      if (c === 't') out.extractRecipients = true;
      else if (c === 'i') out.ignoreDots = true;
      else if (c === 'v' || c === 'm' || c === 'U' || c === 'G') continue;
      else throw new SendmailError(`unknown option -${c}`, EX_USAGE);
    }
  }
  out.recipients = out.recipients.flatMap((r) => r.split(',')).map((r) => r.trim()).filter(Boolean);
  return out;
}
