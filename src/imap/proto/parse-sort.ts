// SORT and THREAD arguments (RFC 5256 3 and 4 / 5.), ESORT RETURN options and PARTIAL (RFC 5267 3.2,
// 4.4), DISPLAYFROM/DISPLAYTO (RFC 5957 2). The charset is mandatory here (unlike SEARCH); an unknown
// one gets NO [BADCHARSET] (from parseSearchKeys).
import type { Cursor } from './cursor.js';
import { MAX_SORT_CRITERIA } from './limits.js';
import { parseSearchKeys } from './parse-search.js';
import type { SearchReturnOption, SortCriterion, SortKeyName, SortReturn, ThreadAlgorithm } from './types.js';

const SORT_KEYS = new Set<SortKeyName>(['ARRIVAL', 'CC', 'DATE', 'FROM', 'SIZE', 'SUBJECT', 'TO', 'DISPLAYFROM', 'DISPLAYTO']);
const RETURN_OPTIONS = new Set<SearchReturnOption>(['MIN', 'MAX', 'ALL', 'COUNT', 'SAVE']);
const THREAD_ALGORITHMS = new Set<ThreadAlgorithm>(['ORDEREDSUBJECT', 'REFERENCES']);

/** RFC 5267 4.4: partial-range = nz-number ":" nz-number (either order). */
function partialRange(c: Cursor): { first: number; last: number } {
  const a = c.nzNumber('a PARTIAL range start');
  c.expect(':', '":" in a PARTIAL range');
  const b = c.nzNumber('a PARTIAL range end');
  return { first: Math.min(a, b), last: Math.max(a, b) };
}

/** RETURN (...) of ESEARCH/ESORT with PARTIAL: the RETURN word already taken. */
export function parseReturnOptions(c: Cursor): SortReturn {
  const ret: SortReturn = { opts: [], partial: null };
  c.list(() => {
    const o = c.atom('a RETURN option').toUpperCase();
    if (o === 'PARTIAL') {
      if (ret.partial) c.fail('PARTIAL given twice');
      c.sp();
      ret.partial = partialRange(c);
    } else if (RETURN_OPTIONS.has(o as SearchReturnOption)) ret.opts.push(o as SearchReturnOption);
    else c.fail(`unknown RETURN option ${o}`);
  });
  return ret;
}

function criterion(c: Cursor): SortCriterion {
  let word = c.atom('a sort key').toUpperCase();
  let reverse = false;
  if (word === 'REVERSE') {
    reverse = true;
    c.sp();
    word = c.atom('a sort key').toUpperCase();
  }
  if (!SORT_KEYS.has(word as SortKeyName)) c.fail(`unknown sort key ${word.slice(0, 30)}`);
  return { key: word as SortKeyName, reverse };
}

function charsetThenKeys(c: Cursor): { charset: string; key: ReturnType<typeof parseSearchKeys> } {
  c.sp();
  const charset = c.astring('a charset');
  c.sp();
  return { charset, key: parseSearchKeys(c, charset) };
}

/** SP [sort-return-opts SP] sort-criteria SP search-criteria, after the command name. */
export function parseSortArgs(c: Cursor): { returnOpts: SortReturn | null; criteria: SortCriterion[]; charset: string; key: ReturnType<typeof parseSearchKeys> } {
  c.sp();
  let returnOpts: SortReturn | null = null;
  if (c.take('RETURN ')) {
    returnOpts = parseReturnOptions(c);
    c.sp();
  }
  const criteria = c.list(() => criterion(c), false);
  if (criteria.length > MAX_SORT_CRITERIA) c.fail(`more than ${MAX_SORT_CRITERIA} sort criteria`);
  return { returnOpts, criteria, ...charsetThenKeys(c) };
}

/** SP thread-alg SP search-criteria, after the command name. */
export function parseThreadArgs(c: Cursor): { algorithm: ThreadAlgorithm; charset: string; key: ReturnType<typeof parseSearchKeys> } {
  c.sp();
  const alg = c.atom('a threading algorithm').toUpperCase();
  if (!THREAD_ALGORITHMS.has(alg as ThreadAlgorithm)) c.fail(`unsupported threading algorithm ${alg.slice(0, 30)}`);
  return { algorithm: alg as ThreadAlgorithm, ...charsetThenKeys(c) };
}
