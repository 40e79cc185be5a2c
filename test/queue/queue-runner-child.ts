// Child process of queue-shared.test.ts: a queue runner on the shared data directory, delivering
// through the sink at the given port, until it is killed.

import type { Config } from '../../src/config/types.js';
import { silentLogger } from '../../src/log/logger.js';
import { Queue } from '../../src/queue/index.js';
import type { ServerContext } from '../../src/server/context.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';

const [dir, port, leaseMs] = process.argv.slice(2);
const store = await SqliteStore.open({ dir: dir! });
const config = { dir, hostname: 'mail.example.org', transports: { '*': { host: '127.0.0.1', port: Number(port), tls: 'none', tlsInsecure: true } }, outbound: { allowPrivateAddresses: false } } as unknown as Config;
const ctx = { store, config, log: silentLogger, shutdown: new AbortController().signal } as unknown as ServerContext;
const queue = new Queue(ctx, { leaseMs: Number(leaseMs) });
process.stdout.write('ready\n');
await queue.runOnce();
