import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildMessageCache } from '../../mime/message-cache.js';
import { ResponseBuilder } from '../proto/response-writer.js';
import { renderedItem } from './fetch-rendered.js';

const msg = Buffer.from('From: "Zoë" <zoe@example.test>\r\nSubject: Grüße\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nhi\r\n');

test('rendered ENVELOPE/BODY/BODYSTRUCTURE: what the builder writes, serialised once per form', () => {
  const cache = buildMessageCache(msg);
  for (const utf8 of [false, true]) {
    for (const item of ['envelope', 'body', 'bodystructure'] as const) {
      const once = renderedItem(cache, item, utf8);
      assert.deepEqual(once, new ResponseBuilder(utf8).value(cache[item]).toBuffer());
      assert.equal(renderedItem(cache, item, utf8), once, 'the same bytes, not serialised again');
    }
  }
  // The 8-bit header is sent differently to a client that accepts UTF-8: two forms, not one.
  assert.notDeepEqual(renderedItem(cache, 'envelope', true), renderedItem(cache, 'envelope', false));
});

test('rendered items follow the builder: text before and after, literals kept in place', () => {
  const cache = buildMessageCache(Buffer.from(`Subject: ${'long '.repeat(300)}\r\n\r\nx\r\n`));
  const direct = new ResponseBuilder(false).text('ENVELOPE ').value(cache.envelope).text(')').toBuffer();
  const reused = new ResponseBuilder(false).text('ENVELOPE ').bytes(renderedItem(cache, 'envelope', false)).text(')').toBuffer();
  assert.deepEqual(reused, direct);
});
