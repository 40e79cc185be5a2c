import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { bodyStructure } from './body-structure.js';
import { envelope } from './envelope.js';
import { parseMessage } from './mime-tree.js';
import { getSection } from './section.js';
import type { ImapValue, MimePart } from './types.js';

const dir = new URL('../../../test/fixtures/mime/', import.meta.url);
const names = readdirSync(dir).filter((f) => f.endsWith('.eml')).sort();

test('there are at least 15 fixtures, each with an expected file', () => {
  assert.ok(names.length >= 15);
  for (const n of names) readFileSync(new URL(n.replace(/\.eml$/, '.expected.json'), dir));
});

for (const name of names) {
  test(`fixture ${name}: BODYSTRUCTURE, BODY and ENVELOPE`, () => {
    const buf = readFileSync(new URL(name, dir));
    const expected = JSON.parse(readFileSync(new URL(name.replace(/\.eml$/, '.expected.json'), dir), 'utf8'));
    const root = parseMessage(buf);
    assert.deepEqual(bodyStructure(buf, root, true), expected.bodystructure);
    assert.deepEqual(bodyStructure(buf, root, false), expected.body);
    assert.deepEqual(envelope(buf, root), expected.envelope);
    // The tree is plain data: a JSON round trip gives the same structure.
    const copy = JSON.parse(JSON.stringify(root)) as MimePart;
    assert.deepEqual(copy, root);
    assert.deepEqual(bodyStructure(buf, copy, true), expected.bodystructure);
  });

  test(`fixture ${name}: every body size equals the BODY[n] section length`, () => {
    const buf = readFileSync(new URL(name, dir));
    const root = parseMessage(buf);
    const check = (bs: ImapValue, part: number[]): void => {
      assert.ok(Array.isArray(bs));
      if (Array.isArray(bs[0])) {
        bs.filter(Array.isArray).forEach((child, i) => check(child, [...part, i + 1]));
        return;
      }
      const size = bs[6] as number;
      assert.equal(getSection(buf, root, { part }).length, size, `part ${part.join('.')}`);
    };
    const bs = bodyStructure(buf, root, false);
    if (Array.isArray(bs) && Array.isArray(bs[0])) check(bs, []);
    else assert.equal(getSection(buf, root, { part: [1] }).length, (bs as ImapValue[])[6]);
  });
}
