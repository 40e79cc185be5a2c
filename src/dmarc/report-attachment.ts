// The XML of an aggregate report received by mail (RFC 7489 7.2.1.1): the first attachment that is
// gzip (application/gzip, .gz), zip (application/zip, .zip, one deflated or stored file) or plain
// XML. Sizes are bounded: the compressed part by MAX_REPORT_MAIL, the XML by MAX_REPORT_XML.

import { gunzipSync, inflateRawSync } from 'node:zlib';
import { decodeTransfer } from '../mime/transfer-decode.js';
import { parseMessage, type MimePart } from '../mime/index.js';
import { MAX_REPORT_XML } from './xml.js';

/** Largest report mail read. */
export const MAX_REPORT_MAIL = 10 * 1024 * 1024;

export function reportXmlOf(raw: Buffer): string | null {
  if (raw.length > MAX_REPORT_MAIL) return null;
  const root = parseMessage(raw);
  const leaves: MimePart[] = [];
  const walk = (p: MimePart): void => (p.children ? p.children.forEach(walk) : void leaves.push(p));
  walk(root);
  for (const p of leaves) {
    const type = `${p.type}/${p.subtype}`;
    const name = (p.params.find((x) => x.name === 'name')?.value ?? '').toLowerCase();
    let data: Buffer;
    try {
      data = decodeTransfer(raw.subarray(p.bodyStart, p.bodyEnd), p.encoding);
      if (type === 'application/gzip' || type === 'application/x-gzip' || name.endsWith('.gz')) return gunzipSync(data, { maxOutputLength: MAX_REPORT_XML }).toString('utf8');
      if (type === 'application/zip' || type === 'application/x-zip-compressed' || name.endsWith('.zip')) return unzipFirst(data);
      if (type === 'text/xml' || type === 'application/xml' || name.endsWith('.xml')) return data.toString('utf8');
    } catch {
      continue;
    }
  }
  return null;
}

/** The first file of a zip archive (local file header, APPNOTE 4.3.7). */
function unzipFirst(zip: Buffer): string | null {
  if (zip.length < 30 || zip.readUInt32LE(0) !== 0x04034b50) return null;
  const method = zip.readUInt16LE(8);
  const flags = zip.readUInt16LE(6);
  let size = zip.readUInt32LE(18);
  const start = 30 + zip.readUInt16LE(26) + zip.readUInt16LE(28);
  // Bit 3: sizes follow the data; take the rest and let inflate stop at the stream's end.
  if (flags & 8 || size === 0) size = zip.length - start;
  const data = zip.subarray(start, start + size);
  if (method === 0) return data.length <= MAX_REPORT_XML ? data.toString('utf8') : null;
  if (method === 8) return inflateRawSync(data, { maxOutputLength: MAX_REPORT_XML }).toString('utf8');
  return null;
}
