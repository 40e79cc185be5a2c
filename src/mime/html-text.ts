// HTML to plain text for SEARCH and PREVIEW. Linear scanning with indexOf (no backtracking regexes),
// so hostile markup such as thousands of unclosed "<" costs O(n).

const DROP_CONTENT = ['script', 'style', 'head', 'title', 'template'];
const BLOCK = /^\/?(p|div|br|tr|li|ul|ol|table|h[1-6]|blockquote|pre|hr|section|article|header|footer|td|th)\b/i;

const ENTITIES: Record<string, string> = {
  amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ', copy: '©', reg: '®', trade: '™',
  hellip: '…', mdash: '—', ndash: '–', lsquo: '‘', rsquo: '’', ldquo: '“', rdquo: '”', euro: '€',
  laquo: '«', raquo: '»', bull: '•', middot: '·', shy: '', zwnj: '', zwj: '',
};

export function decodeEntities(s: string): string {
  return s.replace(/&(#[xX][0-9a-fA-F]{1,6}|#[0-9]{1,7}|[a-zA-Z]{2,8});?/g, (m, e: string) => {
    if (e[0] === '#') {
      const cp = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      return cp > 0 && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff) ? String.fromCodePoint(cp) : m;
    }
    return ENTITIES[e.toLowerCase()] ?? m;
  });
}

/** Visible text of an HTML document: tags removed, block ends as line breaks, entities decoded. */
export function htmlToText(html: string): string {
  const lower = html.toLowerCase();
  let out = '';
  let pos = 0;
  while (pos < html.length) {
    const lt = html.indexOf('<', pos);
    if (lt < 0) {
      out += html.slice(pos);
      break;
    }
    out += html.slice(pos, lt);
    if (html.startsWith('<!--', lt)) {
      const end = html.indexOf('-->', lt + 4);
      pos = end < 0 ? html.length : end + 3;
      continue;
    }
    const gt = html.indexOf('>', lt + 1);
    if (gt < 0) {
      out += html.slice(lt); // a lone "<" is text
      break;
    }
    const tag = html.slice(lt + 1, gt);
    const name = /^[a-zA-Z][a-zA-Z0-9]*/.exec(tag)?.[0]?.toLowerCase();
    if (name && DROP_CONTENT.includes(name)) {
      const close = lower.indexOf('</' + name, gt + 1);
      const closeEnd = close < 0 ? -1 : html.indexOf('>', close);
      pos = closeEnd < 0 ? html.length : closeEnd + 1;
      continue;
    }
    out += BLOCK.test(tag) ? '\n' : ' ';
    pos = gt + 1;
  }
  return decodeEntities(out);
}
