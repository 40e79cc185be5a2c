// Debian's Roundcube (roundcube-core) served by PHP's built-in web server, one instance per test in a
// temp directory: its own config directory (ROUNDCUBE_CONFIG_DIR), SQLite database, temp and log
// directories, talking IMAPS and submissions to a Postern on loopback. The server's self-signed
// certificate is trusted as a CA file (its name is localhost, Roundcube dials 127.0.0.1).

import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const ROUNDCUBE_ROOT = '/var/lib/roundcube/public_html';
const ROUNDCUBE_ETC = '/etc/roundcube';
const SQLITE_SCHEMA = '/usr/share/roundcube/SQL/sqlite.initial.sql';

/** What is missing for a Roundcube instance, or null when it can run here. */
export function roundcubeMissing(): string | null {
  for (const f of [join(ROUNDCUBE_ROOT, 'index.php'), join(ROUNDCUBE_ETC, 'defaults.inc.php'), SQLITE_SCHEMA]) {
    if (!existsSync(f)) return `${f} (Debian package roundcube-core, roundcube-sqlite3)`;
  }
  return null;
}

export interface RoundcubeOptions {
  /** A directory of its own (removed by the caller). */
  dir: string;
  imapsPort: number;
  submissionsPort: number;
  /** The CA file that verifies the server's certificate, and the name in it. */
  caFile: string;
  peerName: string;
  /** Extra $config entries, as PHP literals. */
  extra?: Record<string, string>;
}

export interface Roundcube {
  url: string;
  /** Roundcube's own logs (errors, imap and smtp traces) plus the PHP server's output. */
  logs(): string;
  /** The IMAP trace (imap_debug): the commands Roundcube sent. */
  imapLog(): string;
  stop(): Promise<void>;
}

const php = (s: string): string => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

export async function startRoundcube(o: RoundcubeOptions): Promise<Roundcube> {
  const configDir = join(o.dir, 'config');
  const logDir = join(o.dir, 'logs');
  const tempDir = join(o.dir, 'temp');
  for (const d of [configDir, logDir, tempDir]) mkdirSync(d, { recursive: true });
  // The package's defaults and MIME map, then our settings on top.
  for (const f of ['defaults.inc.php', 'mimetypes.php']) symlinkSync(join(ROUNDCUBE_ETC, f), join(configDir, f));
  const db = join(o.dir, 'roundcube.db');
  await run('php', ['-r', '$db = new PDO($argv[1]); $db->exec(file_get_contents($argv[2]));', `sqlite:${db}`, SQLITE_SCHEMA]);
  const tls = `['ssl' => ['verify_peer' => true, 'verify_peer_name' => true, 'cafile' => ${php(o.caFile)}, 'peer_name' => ${php(o.peerName)}]]`;
  const settings: Record<string, string> = {
    db_dsnw: php(`sqlite:///${db}?mode=0600`),
    imap_host: php(`ssl://127.0.0.1:${o.imapsPort}`),
    imap_conn_options: tls,
    smtp_host: php(`ssl://127.0.0.1:${o.submissionsPort}`),
    smtp_conn_options: tls,
    smtp_user: php('%u'),
    smtp_pass: php('%p'),
    des_key: php(randomBytes(18).toString('base64')),
    log_driver: php('file'),
    log_dir: php(`${logDir}/`),
    temp_dir: php(`${tempDir}/`),
    imap_debug: 'true',
    smtp_debug: 'true',
    plugins: '[]',
    skin: php('elastic'),
    enable_spellcheck: 'false',
    support_url: php(''),
    product_name: php('Roundcube Webmail'),
    // Folders Roundcube would otherwise ask for; Postern's account starts with INBOX only.
    create_default_folders: 'true',
    ...o.extra,
  };
  writeFileSync(
    join(configDir, 'config.inc.php'),
    `<?php\n$config = [];\n${Object.entries(settings).map(([k, v]) => `$config[${php(k)}] = ${v};`).join('\n')}\n`,
  );
  const port = await freePort();
  let output = '';
  // Workers: Roundcube's page fires several requests at once (list, counts, keep-alive). They are
  // forked children that outlive a killed parent, so the server runs in a process group of its own
  // and stop() ends the group.
  const child: ChildProcess = spawn('php', ['-S', `127.0.0.1:${port}`, '-t', ROUNDCUBE_ROOT], {
    env: { ...process.env, ROUNDCUBE_CONFIG_DIR: configDir, PHP_CLI_SERVER_WORKERS: '4' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const killGroup = () => {
    try {
      process.kill(-child.pid!, 'SIGTERM');
    } catch {
      // already gone
    }
  };
  // Never left behind, even when the test process exits without calling stop().
  process.once('exit', killGroup);
  child.stdout!.on('data', (d: Buffer) => (output += d.toString('utf8')));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString('utf8')));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}/`;
  // Up when it answers the login page.
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      const r = await fetch(url);
      if (r.ok) break;
    } catch {
      // not listening yet
    }
    if (child.exitCode !== null || Date.now() > deadline) {
      killGroup();
      throw new Error(`php -S did not come up:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const readLog = (name: string): string => (existsSync(join(logDir, name)) ? readFileSync(join(logDir, name), 'utf8') : '');
  return {
    url,
    logs: () =>
      [...readdirSync(logDir).map((f) => `--- ${f}\n${readLog(f).slice(-6000)}`), `--- php -S (requests that failed, PHP errors)\n${output.split('\n').filter((l) => !/ (Accepted|Closing)$| \[[23]0\d\]: /.test(l)).join('\n').slice(-4000)}`].join('\n'),
    imapLog: () => readLog('imap.log'),
    stop: async () => {
      process.off('exit', killGroup);
      const done = child.exitCode === null ? exited : Promise.resolve();
      killGroup();
      await done;
    },
  };
}
