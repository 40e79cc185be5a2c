// Reading the unsolicited lines a NOTIFY (or IDLE) session is sent, for the notification tests.
import assert from 'node:assert/strict';
import type { Client } from './harness.js';

/** Reads lines until one matches; returns the lines read (the match last). */
export async function until(c: Client, re: RegExp, timeoutMs = 3000): Promise<string[]> {
  const lines: string[] = [];
  const end = Date.now() + timeoutMs;
  for (;;) {
    const line = await c.readLine(Math.max(1, end - Date.now()));
    lines.push(line);
    if (re.test(line)) return lines;
  }
}

/** Asserts that nothing arrives for `ms`. */
export async function silent(c: Client, ms = 300): Promise<void> {
  try {
    const line = await c.readLine(ms);
    assert.fail(`unexpected line: ${line}`);
  } catch (err) {
    if (err instanceof assert.AssertionError) throw err;
  }
}
