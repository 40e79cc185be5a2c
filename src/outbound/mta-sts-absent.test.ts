// The memory of domains without an _mta-sts record stays bounded: past MTA_STS_NEGATIVE_MAX
// domains the oldest is forgotten (and asked for again), the newest are still remembered.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { silentLogger } from '../log/logger.js';
import { MTA_STS_NEGATIVE_MAX } from './limits.js';
import { MtaSts } from './mta-sts.js';

test('at most MTA_STS_NEGATIVE_MAX domains are remembered as without a record, oldest forgotten first', async () => {
  const asked = new Map<string, number>();
  const resolveTxt = (name: string) => {
    asked.set(name, (asked.get(name) ?? 0) + 1);
    return Promise.reject(Object.assign(new Error(`${name}: no data`), { code: 'ENODATA' }));
  };
  const store = {
    getMtaStsPolicy: () => Promise.resolve(null),
    putMtaStsPolicy: () => Promise.reject(new Error('unused')),
    listMtaStsPolicies: () => Promise.resolve([]),
    deleteMtaStsPolicy: () => Promise.resolve(),
  };
  const m = new MtaSts({ store, resolveTxt, log: silentLogger });
  for (let i = 0; i <= MTA_STS_NEGATIVE_MAX; i++) assert.equal((await m.lookup(`d${i}.test`)).kind, 'none');
  const times = (i: number) => asked.get(`_mta-sts.d${i}.test`);
  await m.lookup(`d${MTA_STS_NEGATIVE_MAX}.test`);
  await m.lookup('d1.test');
  assert.equal(times(MTA_STS_NEGATIVE_MAX), 1, 'the newest is remembered');
  assert.equal(times(1), 1, 'an older one within the bound too');
  await m.lookup('d0.test');
  assert.equal(times(0), 2, 'the oldest was forgotten and is asked again');
});
