// Debian's Roundcube webmail on Postern, driven in headless Chromium: log in, list a 1,000-message
// INBOX sorted by date and by subject, switch to thread view, open a message, move it, search,
// send. Roundcube sorts and threads with the server's SORT and THREAD=REFERENCES (RFC 5256) when
// they are advertised; without them it offers no thread view and sorts raw headers, so the pages
// below differ. Assertions are on what the pages show, and on Roundcube's IMAP trace for the
// commands it used. Screenshots go to test-output/roundcube/; Roundcube's logs are printed when a
// step fails.

import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { deriveCredentials } from '../../src/auth/password.js';
import { ImapClient } from '../../src/imap/client/index.js';
import { ADDRESS, PASSWORD, imapsClient, startTestServer, type TestServer } from '../e2e/server-harness.js';
import { appendCorpus, buildCorpus, byDateDescending, CORPUS_SIZE, GARDEN, SUBJECT_FIRST, type Corpus } from './inbox-corpus.js';
import { roundcubeMissing, startRoundcube, type Roundcube } from './roundcube-harness.js';

const CHROMIUM = '/usr/bin/chromium';
const PHP = '/usr/bin/php';
const SHOTS = resolve('test-output/roundcube');
const BOB = 'bob@example.test';
const BOB_PASSWORD = 'bob-password-1';
const PAGE_SIZE = 50;

// Skipped (and reported so) where Roundcube, PHP or Chromium is missing; under CI they are
// installed by .ci/run, and a missing one fails the suite instead.
const missing = roundcubeMissing() ?? (existsSync(PHP) ? null : `${PHP} (php-cli)`) ?? (existsSync(CHROMIUM) ? null : `${CHROMIUM} (chromium)`);
const skip = missing !== null && process.env.CI !== 'true' ? `not installed: ${missing}` : false;

/** The subject of each row of the message list, top to bottom (a moved message's row is hidden). */
const listedSubjects = (page: Page): Promise<string[]> => page.locator('#messagelist tbody tr:visible span.subject a span').allInnerTexts();

/** RFC 5256 2.1 base subject of the corpus' filler subjects ("Re: Budget 3" or "Budget 3", ASCII). */
const fillerBase = (s: string): string => s.replace(/^Re: /, '').toUpperCase();

describe('Roundcube on Postern (1,000-message INBOX)', { skip }, () => {
  let srv: TestServer;
  let rc: Roundcube;
  let browser: Browser;
  let page: Page;
  let work: string;
  let corpus: Corpus;

  before(async () => {
    assert.equal(missing, null, `required when CI=true: ${missing}`);
    mkdirSync(SHOTS, { recursive: true });
    work = mkdtempSync(join(tmpdir(), 'postern-roundcube-'));
    srv = await startTestServer({ services: ['imaps', 'submissions'] });
    const bob = await srv.server.ctx.store.createAccount('bob', BOB);
    await srv.server.ctx.store.setCredentials(bob.id, await deriveCredentials(BOB_PASSWORD));
    corpus = buildCorpus(ADDRESS);
    const c = await imapsClient(srv);
    await appendCorpus(c, 'INBOX', corpus);
    assert.equal((await c.status('INBOX', ['MESSAGES'])).messages, CORPUS_SIZE);
    await c.logout();
    rc = await startRoundcube({
      dir: work,
      imapsPort: srv.ports.imaps!,
      submissionsPort: srv.ports.submissions!,
      caFile: join(srv.dir, 'tls', 'cert.pem'),
      peerName: 'localhost',
      // Threads open (1: expand all), so the screenshot shows each reply under its parent.
      extra: { autoexpand_threads: '1', mail_pagesize: String(PAGE_SIZE) },
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    // Roundcube shows dates in the browser's zone.
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, timezoneId: 'UTC' });
    page = await context.newPage();
    page.setDefaultTimeout(20_000);
  });
  after(async () => {
    await browser?.close();
    await rc?.stop();
    await srv?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  /** One step of the walk: a screenshot after it, Roundcube's logs when it fails. */
  const step = (name: string, fn: () => Promise<void>) =>
    it(name, async () => {
      const file = name.split(':')[0]!.replace(/[^a-z0-9]+/gi, '-').toLowerCase();
      try {
        await fn();
        await page.screenshot({ path: join(SHOTS, `${file}.png`) });
      } catch (err) {
        await page?.screenshot({ path: join(SHOTS, `${file}-FAILED.png`) }).catch(() => undefined);
        // A dialog left open would block the next step.
        await page?.keyboard.press('Escape').catch(() => undefined);
        console.error(`Roundcube logs after "${name}" failed:\n${rc?.logs() ?? '(not started)'}`);
        throw err;
      }
    });

  /** Whether Roundcube's IMAP trace has a command matching `re` (after the tag). */
  const sent = (re: RegExp): boolean => rc.imapLog().split('\n').some((l) => / C: A\d+ /.test(l) && re.test(l));
  /** Waits until no request of Roundcube's is in flight. */
  const idle = () => page.waitForFunction(() => !(window as unknown as { rcmail: { busy: boolean } }).rcmail.busy);
  const countDisplay = async (text: string) => {
    await page.locator('#rcmcountdisplay', { hasText: text }).waitFor();
    await idle();
  };

  /** The list options dialog: sorting column, order and list mode, then Save. */
  async function listOptions(column: string, order: 'ASC' | 'DESC', mode: 'list' | 'threads', expectCount: string): Promise<void> {
    await page.click('#listmenulink');
    const dialog = page.locator('.ui-dialog', { hasText: 'List options' });
    await dialog.getByLabel('Sorting column').selectOption(column);
    await dialog.getByLabel('Sorting order').selectOption(order);
    // Roundcube offers the list mode only when the server has THREAD.
    const listMode = dialog.getByLabel('List mode');
    if (mode === 'threads') assert.ok((await listMode.count()) > 0, 'Roundcube offers no thread view: THREAD is not advertised');
    if ((await listMode.count()) > 0) await listMode.selectOption(mode);
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.waitFor({ state: 'hidden' });
    await countDisplay(expectCount);
    await page.waitForFunction(
      ([col, ord, threads]) => {
        const env = (window as unknown as { rcmail: { env: Record<string, unknown>; busy: boolean } }).rcmail;
        return env.env.sort_col === col && env.env.sort_order === ord && Boolean(env.env.threading) === threads && !env.busy;
      },
      [column, order, mode === 'threads'] as const,
    );
  }

  step('log in', async () => {
    await page.goto(rc.url);
    await page.locator('#rcmloginuser').fill(ADDRESS);
    await page.locator('#rcmloginpwd').fill(PASSWORD);
    await page.locator('#rcmloginsubmit').click();
    await page.locator('#messagelist tbody tr').first().waitFor();
    await countDisplay(`Messages 1 to ${PAGE_SIZE} of ${CORPUS_SIZE}`);
    assert.match(await page.locator('.header-title.username, .username').first().innerText(), new RegExp(ADDRESS));
    assert.equal((await listedSubjects(page)).length, PAGE_SIZE);
  });

  step('sorted by date: newest first in UTC, whatever the sender time zone', async () => {
    await listOptions('date', 'DESC', 'list', `Messages 1 to ${PAGE_SIZE} of ${CORPUS_SIZE}`);
    const expected = byDateDescending(corpus).slice(0, PAGE_SIZE).map((m) => m.subject);
    assert.deepEqual(await listedSubjects(page), expected);
    // "Seeds to order" says 00:00 -0500 and "Re: Plan..." 09:30 +0530: in UTC the first is newer.
    assert.deepEqual((await listedSubjects(page)).slice(0, 2), ['Seeds to order', 'Re: Plan for the garden']);
    assert.ok(sent(/UID SORT \(DATE\) /), 'Roundcube sent no UID SORT (DATE)');
  });

  step('sorted by subject: RFC 5256 base subjects (encoded words decoded, Re:/Fwd:/[list]/(fwd) ignored)', async () => {
    await listOptions('subject', 'ASC', 'list', `Messages 1 to ${PAGE_SIZE} of ${CORPUS_SIZE}`);
    const specials = new Set(SUBJECT_FIRST.map((s) => s.subject));
    const fillers = corpus.messages
      .map((m, seq) => ({ subject: m.subject, seq }))
      .filter((m) => !specials.has(m.subject))
      .sort((a, b) => (fillerBase(a.subject) < fillerBase(b.subject) ? -1 : fillerBase(a.subject) > fillerBase(b.subject) ? 1 : a.seq - b.seq))
      .map((m) => m.subject);
    const expected = [...SUBJECT_FIRST.map((s) => s.subject), ...fillers].slice(0, PAGE_SIZE);
    assert.deepEqual(await listedSubjects(page), expected);
    assert.ok(sent(/UID SORT \(SUBJECT\) /), 'Roundcube sent no UID SORT (SUBJECT)');
  });

  step('thread view: threads by References, the newest thread first with its replies nested', async () => {
    // Threads the corpus' References make (every message whose parent is in the mailbox joins it).
    const ids = new Set(corpus.messages.map((m) => m.messageId));
    const threads = corpus.messages.filter((m) => !m.references.some((r) => ids.has(r))).length;
    await listOptions('date', 'DESC', 'threads', `Threads 1 to ${PAGE_SIZE} of ${threads}`);
    const rows = await page.evaluate(() =>
      Array.from(document.querySelectorAll<HTMLTableRowElement & { uid: number }>('#messagelist tbody tr')).map((tr) => {
        const r = (window as unknown as { rcmail: { message_list: { rows: Record<number, { depth: number; parent_uid: number }> } } }).rcmail
          .message_list.rows[tr.uid]!;
        return { uid: tr.uid, depth: r.depth, parent: r.parent_uid, subject: tr.querySelector('span.subject a span')!.textContent, shown: tr.offsetParent !== null };
      }),
    );
    // UIDs follow the append order: the thread's messages sit far apart in the mailbox.
    const uidOf = (id: string) => corpus.messages.findIndex((m) => m.messageId === id) + 1;
    const garden = GARDEN.ids.map(uidOf);
    assert.deepEqual(rows.slice(0, 5), [
      { uid: garden[0], depth: 0, parent: 0, subject: GARDEN.subjects[0], shown: true },
      { uid: garden[1], depth: 1, parent: garden[0], subject: GARDEN.subjects[1], shown: true },
      { uid: garden[2], depth: 2, parent: garden[1], subject: GARDEN.subjects[2], shown: true },
      { uid: garden[3], depth: 1, parent: garden[0], subject: GARDEN.subjects[3], shown: true },
      { uid: garden[4], depth: 1, parent: garden[0], subject: GARDEN.subjects[4], shown: true },
    ]);
    assert.deepEqual(rows.slice(0, 5).map((r) => r.depth), GARDEN.depths);
    assert.ok(sent(/UID THREAD REFERENCES /), 'Roundcube sent no UID THREAD REFERENCES');
  });

  const abbey = SUBJECT_FIRST[1]!.subject;
  step('open a message: subject decoded, body shown', async () => {
    await listOptions('subject', 'ASC', 'list', `Messages 1 to ${PAGE_SIZE} of ${CORPUS_SIZE}`);
    await page.locator('#messagelist tbody tr', { hasText: abbey }).click();
    const frame = page.frameLocator('#messagecontframe');
    await frame.locator('#messagebody', { hasText: `Sorted by subject: ${abbey}.` }).waitFor();
    assert.equal((await frame.locator('h2.subject').innerText()).trim(), abbey);
  });

  step('move it to Archive: gone from the list, in Archive on the server', async () => {
    await page.locator('a.more[data-popup="message-menu"], #toolbar-menu a.more').first().click();
    await page.locator('#message-menu').getByRole('button', { name: 'Move to...' }).click();
    await page.locator('#folder-selector').getByRole('link', { name: 'Archive' }).click();
    await countDisplay(`Messages 1 to ${PAGE_SIZE} of ${CORPUS_SIZE - 1}`);
    await page.locator('#messagelist tbody tr', { hasText: abbey }).waitFor({ state: 'hidden' });
    assert.ok(!(await listedSubjects(page)).includes(abbey), 'moved message still listed');
    const c = await imapsClient(srv);
    try {
      assert.equal((await c.status('INBOX', ['MESSAGES'])).messages, CORPUS_SIZE - 1);
      await c.select('Archive');
      const found = await c.search(`HEADER Message-ID "<subject-1@example.test>"`);
      assert.equal(found.numbers.length, 1, 'the message is in Archive');
    } finally {
      await c.logout();
    }
    assert.ok(sent(/UID MOVE \d+ Archive/), 'Roundcube sent no UID MOVE');
  });

  step('search: the subject matches, in date order', async () => {
    await listOptions('date', 'DESC', 'list', `Messages 1 to ${PAGE_SIZE} of ${CORPUS_SIZE - 1}`);
    await page.locator('#mailsearchform').fill('garden');
    await page.locator('#mailsearchform').press('Enter');
    await countDisplay('Messages 1 to 4 of 4');
    assert.deepEqual(await listedSubjects(page), ['Re: Plan for the garden', 'Re: Plan for the garden', 'Re: Plan for the garden', 'Plan for the garden']);
  });

  step('send to a local account: delivered to its INBOX, a copy in Sent', async () => {
    await page.locator('#mailsearchform').fill('');
    await page.locator('#mailsearchform').press('Enter');
    await countDisplay(`Messages 1 to ${PAGE_SIZE} of ${CORPUS_SIZE - 1}`);
    await page.getByRole('button', { name: 'Compose' }).click();
    await page.locator('#compose-subject').waitFor();
    await page.locator('#compose_to input[type="text"]').fill(`${BOB}, `);
    await page.locator('#compose-subject').fill('Seed order from Roundcube');
    await page.locator('#composebody').fill('Two packets of tomato seeds, please.');
    await page.getByRole('button', { name: 'Send' }).click();
    await page.locator('#messagelist tbody tr').first().waitFor();
    const bob = await ImapClient.connect({
      host: '127.0.0.1',
      port: srv.ports.imaps!,
      tls: 'implicit',
      ca: readFileSync(join(srv.dir, 'tls', 'cert.pem')),
      servername: 'localhost',
      auth: { username: BOB, password: BOB_PASSWORD },
    });
    try {
      // Local delivery is asynchronous to the 250: wait for it.
      let text = '';
      for (let i = 0; i < 50 && !text; i++) {
        const box = await bob.select('INBOX');
        if (box.exists > 0) {
          const [m] = await bob.fetch('1', 'BODY.PEEK[]');
          text = m?.body?.['']?.toString('utf8') ?? '';
        } else await new Promise((r) => setTimeout(r, 100));
      }
      assert.match(text, /^Subject: Seed order from Roundcube\r$/m);
      assert.match(text, new RegExp(`^From: ${ADDRESS}\\r$`, 'm'));
      assert.match(text, /Two packets of tomato seeds, please\./);
    } finally {
      await bob.logout();
    }
    const alice = await imapsClient(srv);
    try {
      await alice.select('Sent');
      assert.equal((await alice.search('SUBJECT "Seed order from Roundcube"')).numbers.length, 1, 'a copy in Sent');
    } finally {
      await alice.logout();
    }
  });
});
