import assert from 'node:assert/strict';
import { test } from 'node:test';
import { outboundContent } from './content.js';

test('outbound content: bare CR and LF become CRLF, the last line is ended, clean content is not copied', () => {
  const c = outboundContent(Buffer.from('a\r.\rMAIL FROM:<x@y>\n.\nb', 'latin1'));
  assert.equal(c.data.toString('latin1'), 'a\r\n.\r\nMAIL FROM:<x@y>\r\n.\r\nb\r\n');
  assert.deepEqual([c.bareCr, c.bareLf], [2, 2]);
  assert.equal(outboundContent(Buffer.from('x\r')).data.toString(), 'x\r\n');
  const clean = Buffer.from('Subject: s\r\n\r\nbody\r\n');
  assert.equal(outboundContent(clean).data, clean);
  assert.equal(outboundContent(Buffer.alloc(0)).data.length, 0);
});
