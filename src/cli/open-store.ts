// Opening a data directory from the CLI: the config is validated first, so a command never works on
// a directory with a broken configuration.

import { loadConfig, ConfigError } from '../config/load.js';
import type { Config } from '../config/types.js';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import { CliError, EX_CONFIG } from './cli-error.js';

export function loadConfigOrFail(dir: string): Config {
  try {
    return loadConfig(dir);
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(err.message, EX_CONFIG);
    throw err;
  }
}

export async function withStore<T>(dir: string, fn: (store: SqliteStore, config: Config) => Promise<T>): Promise<T> {
  const config = loadConfigOrFail(dir);
  const store = await SqliteStore.open({ dir, defaultQuota: config.quota.default });
  try {
    return await fn(store, config);
  } finally {
    await store.close();
  }
}
