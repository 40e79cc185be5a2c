// `postern serve` and `postern localserve`.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CONFIG_FILE } from '../config/load.js';
import { serveForever } from '../server/run-server.js';
import { parse, positionals } from './args.js';
import { loadConfigOrFail } from './open-store.js';
import { initDataDir } from './quickstart.js';

export async function serveCommand(dir: string, args: string[]): Promise<void> {
  const { positionals: p } = parse(args, {}, 'postern serve');
  positionals(p, 0, 0, 'postern serve');
  await serveForever(loadConfigOrFail(dir));
}

export const LOCALSERVE = {
  hostname: 'localhost',
  listen: '127.0.0.1',
  portBase: 1000,
  address: 'postern@localhost',
  password: 'posternpostern',
};

export async function localserveCommand(dir: string, args: string[]): Promise<void> {
  const { positionals: p } = parse(args, {}, 'postern localserve');
  positionals(p, 0, 0, 'postern localserve');
  if (!existsSync(join(dir, CONFIG_FILE))) {
    await initDataDir({ dir, ...LOCALSERVE });
    console.log(`created a local development setup in ${dir}`);
  }
  const config = loadConfigOrFail(dir);
  const server = await serveForever(config);
  const ports = server.listeners.map((l) => `  ${l.service.padEnd(12)} ${l.host}:${l.port}`).join('\n');
  console.log(`Postern is running (development mode, data in ${dir}).
Listening:
${ports}
Log in as ${LOCALSERVE.address} with password ${LOCALSERVE.password} (unless you changed it), e.g.:
  curl --insecure imaps://${LOCALSERVE.listen}:${LOCALSERVE.portBase + 993}/INBOX --user '${LOCALSERVE.address}:${LOCALSERVE.password}'
The TLS certificate is self-signed: tell your client to accept it. Stop with Ctrl-C.`);
}
