import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bitString, integer, oid, sequence, setOf, time, tlv, bmpString } from './der.js';

const hex = (b: Buffer) => b.toString('hex');

test('INTEGER encodings are minimal and positive (X.690 8.3)', () => {
  assert.equal(hex(integer(0)), '020100');
  assert.equal(hex(integer(127)), '02017f');
  assert.equal(hex(integer(128)), '02020080');
  assert.equal(hex(integer(256)), '02020100');
  assert.equal(hex(integer(Buffer.from('0000ff', 'hex'))), '020200ff');
  assert.equal(hex(integer(Buffer.alloc(0))), '020100');
  assert.throws(() => integer(-1), RangeError);
});

test('OID encoding (X.690 8.19)', () => {
  assert.equal(hex(oid('1.2.840.113549.1.1.11')), '06092a864886f70d01010b');
  assert.equal(hex(oid('2.5.4.3')), '0603550403');
  assert.equal(hex(oid('1.3.101.112')), '06032b6570');
  assert.throws(() => oid('1'), RangeError);
});

test('lengths: short and long form', () => {
  assert.equal(tlv(0x04, Buffer.alloc(127)).subarray(0, 2).toString('hex'), '047f');
  assert.equal(tlv(0x04, Buffer.alloc(128)).subarray(0, 3).toString('hex'), '048180');
  assert.equal(tlv(0x04, Buffer.alloc(300)).subarray(0, 4).toString('hex'), '0482012c');
});

test('times: UTCTime before 2050, GeneralizedTime after (RFC 5280 4.1.2.5)', () => {
  assert.equal(time(new Date('2024-01-02T03:04:05.678Z')).toString('latin1'), '\x17\x0d240102030405Z');
  assert.equal(time(new Date('9999-12-31T23:59:59Z')).toString('latin1'), '\x18\x0f99991231235959Z');
});

test('SET OF is sorted, SEQUENCE keeps order, BIT STRING and BMPString', () => {
  assert.equal(hex(setOf(integer(2), integer(1))), '3106020101020102');
  assert.equal(hex(sequence(integer(2), integer(1))), '3006020102020101');
  assert.equal(hex(bitString(Buffer.of(0xff))), '030200ff');
  assert.equal(hex(bmpString('ab')), '1e0400610062');
});
