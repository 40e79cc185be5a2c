import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Router } from './router.js';

test('router: parameters, 405 with the allowed methods, HEAD as GET, bad escapes', () => {
  const r = new Router();
  const list = () => ({ status: 200 });
  const one = () => ({ status: 201 });
  r.add('GET', '/api/keys', list).add('GET', '/api/keys/:fp', one).add('DELETE', '/api/keys/:fp', one);
  assert.deepEqual(r.match('GET', '/api/keys'), { kind: 'found', handler: list, params: {} });
  assert.deepEqual(r.match('DELETE', '/api/keys/a%2Fb'), { kind: 'found', handler: one, params: { fp: 'a/b' } });
  assert.equal(r.match('HEAD', '/api/keys').kind, 'found');
  assert.deepEqual(r.match('POST', '/api/keys/x'), { kind: 'method', allowed: ['GET', 'DELETE'] });
  assert.equal(r.match('GET', '/api/keys/').kind, 'none', 'an empty parameter does not match');
  assert.equal(r.match('GET', '/api/keys/%E0%A4%A').kind, 'none');
  assert.equal(r.match('GET', '/api/keys/x/y').kind, 'none');
});
