// A test that needs a third-party program: it runs when the program is on PATH, is skipped (with
// t.skip, so the report says so) when it is not, and fails instead under CI=true, where every peer
// is installed by .ci/run.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import type { TestContext } from 'node:test';

export async function needPeer(t: TestContext, bin: string): Promise<boolean> {
  const found = await new Promise<boolean>((resolve) => execFile('which', [bin], (err) => resolve(!err)));
  if (found) return true;
  if (process.env.CI === 'true') assert.fail(`${bin} is not installed (required when CI=true)`);
  t.skip(`${bin} is not installed`);
  return false;
}
