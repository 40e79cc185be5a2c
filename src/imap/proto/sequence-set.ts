// sequence-set (RFC 9051 9), `$` (RFC 5182 2.1), and resolving a set against the messages in a view.
import type { Cursor } from './cursor.js';
import { STAR, type SeqRange, type SequenceSet } from './types.js';

function seqNumber(c: Cursor): number {
  if (c.take('*')) return STAR;
  return c.nzNumber('a sequence number');
}

/** sequence-set / "$" */
export function parseSequenceSet(c: Cursor, allowSaved = true): SequenceSet {
  if (c.peek() === 0x24) {
    if (!allowSaved) c.fail('"$" not allowed here');
    c.take('$');
    return { kind: 'saved' };
  }
  const ranges: SeqRange[] = [];
  for (;;) {
    const start = seqNumber(c);
    const end = c.take(':') ? seqNumber(c) : start;
    ranges.push({ start, end });
    if (!c.take(',')) break;
  }
  return { kind: 'ranges', ranges };
}

/** Whether `n` lies in `ranges`, with `*` standing for `max` (RFC 9051 6.4.8: `*` is the largest in use). */
export function inRanges(ranges: SeqRange[], n: number, max: number): boolean {
  for (const r of ranges) {
    const a = r.start === STAR ? max : r.start;
    const b = r.end === STAR ? max : r.end;
    if (n >= Math.min(a, b) && n <= Math.max(a, b)) return true;
  }
  return false;
}

/** Compact "1:3,7" form of sorted distinct numbers (for COPYUID, ESEARCH ALL, VANISHED). */
export function formatNumberSet(nums: readonly number[]): string {
  const sorted = [...nums].sort((a, b) => a - b);
  const out: string[] = [];
  let i = 0;
  while (i < sorted.length) {
    const start = sorted[i]!;
    let end = start;
    while (i + 1 < sorted.length && (sorted[i + 1] === end + 1 || sorted[i + 1] === end)) end = sorted[++i]!;
    out.push(start === end ? String(start) : `${start}:${end}`);
    i++;
  }
  return out.join(',');
}

/** "1:3,7" in the order given (COPYUID source and destination lists must keep their pairing). */
export function formatNumberList(nums: readonly number[]): string {
  const out: string[] = [];
  let i = 0;
  while (i < nums.length) {
    const start = nums[i]!;
    let end = start;
    while (i + 1 < nums.length && nums[i + 1] === end + 1) end = nums[++i]!;
    out.push(start === end ? String(start) : `${start}:${end}`);
    i++;
  }
  return out.join(',');
}
