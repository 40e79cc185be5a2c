import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger } from './logger.js';

function capture(): { lines: string[]; write(line: string): void } {
  const lines: string[] = [];
  return { lines, write: (l) => lines.push(l.replace(/^\S+ /, '')) };
}

test('fields are logfmt pairs: bare when safe, quoted otherwise; undefined left out', () => {
  const c = capture();
  const log = createLogger({ write: c.write, level: 'debug' });
  log.info('hello', { a: 'x', b: 'two words', n: 42, f: 1.5, nan: NaN, u: undefined, e: new Error('bad "thing"'), o: { k: 1 }, eq: 'a=b' });
  assert.deepEqual(c.lines, ['info hello a=x b="two words" n=42 f=1.5 nan=null e="bad \\"thing\\"" o="{\\"k\\":1}" eq="a=b"']);
});

test('a child logger carries its fields first; a field of the same name replaces it in place', () => {
  const c = capture();
  const child = createLogger({ write: c.write }).child({ cid: 'c1', ip: '192.0.2.1' }).child({ user: 'u' });
  child.info('one', { x: 1 });
  child.warn('two', { ip: '198.51.100.7', y: 'z' });
  child.info('three');
  assert.deepEqual(c.lines, ['info one cid=c1 ip=192.0.2.1 user=u x=1', 'warn two cid=c1 ip=198.51.100.7 user=u y=z', 'info three cid=c1 ip=192.0.2.1 user=u']);
});

test('levels below the minimum are dropped', () => {
  const c = capture();
  const log = createLogger({ write: c.write, level: 'warn' });
  log.info('no');
  log.debug('no');
  log.warn('yes');
  log.error('yes too');
  assert.deepEqual(c.lines, ['warn yes', 'error yes too']);
});
