// The evaluations kept for our daily aggregate reports are bounded: a day's rows of a domain go
// when its report is queued (or skipped: nobody asked for one), and rows of days never reported go
// after DMARC_EVENT_KEEP_DAYS.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DMARC_EVENT_KEEP_DAYS, sendDailyReports } from '../../src/dmarc/report-sender.js';
import { parseRecordTags } from '../../src/dmarc/record-tags.js';
import { silentLogger } from '../../src/log/logger.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { DmarcEvent } from '../../src/store/types.js';

const dayOffset = (day: string, n: number) => new Date(Date.parse(`${day}T00:00:00Z`) + n * 86400_000).toISOString().slice(0, 10);

function event(day: string, domain: string, record: string, ip: string): Omit<DmarcEvent, 'count'> {
  return {
    day, policyDomain: domain, sourceIp: ip, headerFrom: domain, envelopeFrom: domain, disposition: 'none', dkim: 'pass', spf: 'pass',
    auth: JSON.stringify({ dkim: [], spf: null }), policy: JSON.stringify(parseRecordTags(domain, record)),
  };
}

test('a day\'s rows go with its sent report; unreported days go after the retention; later days stay', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'postern-dmarc-'));
  const store = await SqliteStore.open({ dir, recover: true });
  try {
    const day = '2026-03-20';
    const old = dayOffset(day, -DMARC_EVENT_KEEP_DAYS - 1);
    const recent = dayOffset(day, -3);
    // rua in the policy domain itself: no consent lookup (RFC 7489 7.1), so no DNS here.
    const asks = 'v=DMARC1; p=reject; rua=mailto:dmarc@asks.test';
    for (const d of [old, recent, day, dayOffset(day, 1)]) {
      await store.recordDmarcEvent(event(d, 'asks.test', asks, '192.0.2.1'));
      await store.recordDmarcEvent(event(d, 'quiet.test', 'v=DMARC1; p=none', '192.0.2.2'));
    }
    await store.recordDmarcEvent(event(day, 'asks.test', asks, '192.0.2.1'));
    assert.equal((await store.dmarcEvents(day, 'asks.test'))[0]!.count, 2);

    const ids = await sendDailyReports({ store, hostname: 'mx.example.test', log: silentLogger }, day);
    assert.equal(ids.length, 1, 'asks.test is reported; quiet.test asked for nothing');
    assert.deepEqual(await store.dmarcEvents(day, null), [], 'both domains\' rows of the day are gone');
    assert.equal(await store.dmarcReportSent(day, 'asks.test'), true, 'the sent-mark stays: no second report');
    assert.deepEqual(await store.dmarcEvents(old, null), [], 'rows of a day never reported are dropped after the retention');
    assert.equal((await store.dmarcEvents(recent, null)).length, 2, 'an unreported day within the retention is kept');
    assert.equal((await store.dmarcEvents(dayOffset(day, 1), null)).length, 2, 'the day in progress is kept');
    assert.deepEqual(await sendDailyReports({ store, hostname: 'mx.example.test', log: silentLogger }, day), []);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
