import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { buildQuery, DnsQueryError, parseTlsaResponse } from './tlsa-query.js';

/** A response to `query`: its question echoed, answers appended (a CNAME, then TLSA records). */
function response(query: Buffer, flags: number, answers: Buffer[]): Buffer {
  const head = Buffer.from(query.subarray(0, 12));
  head.writeUInt16BE(flags, 2);
  head.writeUInt16BE(answers.length, 6);
  head.writeUInt16BE(0, 10);
  const question = query.subarray(12, query.length - 11); // without the OPT record
  return Buffer.concat([head, question, ...answers]);
}

function rr(type: number, rdata: Buffer): Buffer {
  const fixed = Buffer.alloc(10);
  fixed.writeUInt16BE(type, 0);
  fixed.writeUInt16BE(1, 2);
  fixed.writeUInt32BE(300, 4);
  fixed.writeUInt16BE(rdata.length, 8);
  return Buffer.concat([Buffer.from([0xc0, 12]), fixed, rdata]);
}

test('TLSA answers parsed, other types skipped; rcodes and bad ids are errors', () => {
  const id = 0x1234;
  const q = buildQuery(id, '_25._tcp.mail.example.org');
  const cname = rr(5, Buffer.from([4, ...Buffer.from('host'), 0xc0, 12]));
  const tlsa = rr(52, Buffer.concat([Buffer.from([3, 1, 1]), Buffer.alloc(32, 0xab)]));
  const r = parseTlsaResponse(response(q, 0x8180, [cname, tlsa]), id);
  assert.deepEqual(r, { truncated: false, records: [{ usage: 3, selector: 1, matchingType: 1, data: 'ab'.repeat(32) }] });
  assert.equal(parseTlsaResponse(response(q, 0x8380, []), id).truncated, true);
  const code = (buf: Buffer, want: string) => assert.throws(() => parseTlsaResponse(buf, id), (e: Error) => e instanceof DnsQueryError && e.code === want);
  code(response(q, 0x8183, []), 'ENOTFOUND');
  code(response(q, 0x8182, []), 'ESERVFAIL');
  code(response(q, 0x8185, []), 'EREFUSED');
  code(response(q, 0x0180, []), 'EBADRESP'); // not a response
  code(response(buildQuery(id + 1, 'x.example'), 0x8180, []), 'EBADRESP'); // another id
  code(response(q, 0x8180, [tlsa]).subarray(0, -5), 'EBADRESP'); // cut short
});

test('random and cut responses give DnsQueryError or a result, never another exception', () => {
  const id = 7;
  const q = buildQuery(id, 'a.example');
  const good = response(q, 0x8180, [rr(52, Buffer.from([3, 1, 1, 1, 2, 3]))]);
  for (let i = 0; i < 5000; i++) {
    const buf = i % 2 ? Buffer.from(good) : randomBytes(12 + (i % 200));
    buf.writeUInt16BE(id, 0);
    if (i % 2) for (let k = 0; k < 3; k++) buf[12 + ((i * 7 + k * 13) % (buf.length - 12))] = (i * 31 + k) & 0xff;
    const cut = buf.subarray(0, i % 3 === 0 ? buf.length : 12 + (i % (buf.length - 11)));
    try {
      parseTlsaResponse(cut, id);
    } catch (err) {
      assert.ok(err instanceof DnsQueryError, String(err));
    }
  }
});
