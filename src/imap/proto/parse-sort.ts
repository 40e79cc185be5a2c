// SORT and THREAD arguments (RFC 5256 3 and 4 / 5.), ESORT RETURN options and PARTIAL (RFC 5267 3.2,
// 4.4), DISPLAYFROM/DISPLAYTO (RFC 5957 2). The charset is mandatory here (unlike SEARCH); an unknown
// one gets NO [BADCHARSET] (from parseSearchKeys).
import type { Cursor } from './cursor.js';
import { MAX_SORT_CRITERIA } from './limits.js';
import { parseReturnOptions, parseSearchKeys } from './parse-search.js';
import type { SortCriterion, SortKeyName, SortReturn, ThreadAlgorithm } from './types.js';

const SORT_KEYS = new Set<SortKeyName>(['ARRIVAL', 'CC', 'DATE', 'FROM', 'SIZE', 'SUBJECT', 'TO', 'DISPLAYFROM', 'DISPLAYTO']);
const THREAD_ALGORITHMS = new Set<ThreadAlgorithm>(['ORDEREDSUBJECT', 'REFERENCES']);

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
