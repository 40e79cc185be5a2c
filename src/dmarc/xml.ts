// A small XML reader for DMARC aggregate reports: elements, text and the five predefined entities
// plus character references; attributes, comments, processing instructions and the declaration are
// skipped. No DTDs (so no entity expansion attacks), and the size and depth are bounded.

export interface XmlElement {
  name: string;
  children: XmlElement[];
  text: string;
}

/** Largest report read (uncompressed); a day's report of a busy domain is far below. */
export const MAX_REPORT_XML = 16 * 1024 * 1024;
const MAX_DEPTH = 16;

export class XmlError extends Error {
  readonly code = 'xml-malformed';
}

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function decode(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#\d+|\w+);/g, (m, e: string) => {
    if (e[0] === '#') {
      const cp = e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      return cp > 0 && cp <= 0x10ffff ? String.fromCodePoint(cp) : m;
    }
    return ENTITIES[e] ?? m;
  });
}

export function xmlEscape(s: string): string {
  return s.replace(/[<>&"']/g, (c) => `&${Object.keys(ENTITIES).find((k) => ENTITIES[k] === c)};`);
}

export function parseXml(xml: string): XmlElement {
  if (xml.length > MAX_REPORT_XML) throw new XmlError('report too large');
  if (/<!DOCTYPE/i.test(xml)) throw new XmlError('DTDs are not accepted');
  const stack: XmlElement[] = [];
  let root: XmlElement | null = null;
  const re = /<!--[\s\S]*?-->|<\?[\s\S]*?\?>|<!\[CDATA\[([\s\S]*?)\]\]>|<\/([^\s>]+)\s*>|<([^\s/>!?]+)((?:\s+[^\s=>/]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>|([^<]+)/g;
  let last = 0;
  for (let m = re.exec(xml); m; m = re.exec(xml)) {
    if (m.index !== last) throw new XmlError(`unexpected markup at ${last}`);
    last = re.lastIndex;
    const top = stack.at(-1);
    if (m[1] !== undefined) {
      if (top) top.text += m[1];
    } else if (m[2] !== undefined) {
      if (!top || top.name !== m[2]) throw new XmlError(`unbalanced </${m[2]}>`);
      stack.pop();
    } else if (m[3] !== undefined) {
      const el: XmlElement = { name: m[3].replace(/^.*:/, ''), children: [], text: '' };
      if (top) top.children.push(el);
      else if (root) throw new XmlError('more than one root element');
      else root = el;
      if (m[5] !== '/') {
        stack.push(el);
        if (stack.length > MAX_DEPTH) throw new XmlError('nested too deeply');
      }
    } else if (m[6] !== undefined && top) {
      top.text += decode(m[6]);
    } else if (m[6] !== undefined && m[6].trim() !== '') {
      throw new XmlError('text outside the root element');
    }
  }
  if (last !== xml.length || stack.length || !root) throw new XmlError('incomplete document');
  return root;
}
