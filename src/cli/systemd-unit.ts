// The systemd unit quickstart writes beside the data: `postern serve` as a dedicated user, with the
// file system read-only except the data directory and no capability but binding ports below 1024.

import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const UNIT_FILE = 'postern.service';
export const SERVICE_USER = 'postern';

/** Paths that ProtectHome=yes would hide: a data directory or a Node install there needs read-only. */
const HOME_PATHS = ['/home/', '/root/', '/run/user/'];

export interface UnitOptions {
  /** Data directory (made absolute). */
  dir: string;
  /** The Node.js executable and the postern entry point; default: the ones running now. */
  node?: string;
  main?: string;
}

export function systemdUnit(o: UnitOptions): string {
  const dir = resolve(o.dir);
  const node = o.node ?? realpathSync(process.execPath);
  const main = o.main ?? realpathSync(fileURLToPath(new URL('./main.js', import.meta.url)));
  const inHome = [dir, node, main].some((p) => HOME_PATHS.some((h) => (p + '/').startsWith(h)));
  const quote = (s: string) => (/^[A-Za-z0-9_./:@+-]+$/.test(s) ? s : `"${s.replace(/(["\\])/g, '\\$1')}"`);
  return `# Postern mail server. Install:
#   useradd --system --home-dir ${dir} --shell /usr/sbin/nologin ${SERVICE_USER}
#   chown -R ${SERVICE_USER}: ${dir}
#   cp ${UNIT_FILE} /etc/systemd/system/ && systemctl daemon-reload && systemctl enable --now postern
[Unit]
Description=Postern mail server (SMTP, IMAP, account web)
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
User=${SERVICE_USER}
Group=${SERVICE_USER}
WorkingDirectory=${quote(dir)}
ExecStart=${quote(node)} ${quote(main)} --dir ${quote(dir)} serve
Restart=on-failure
RestartSec=5s
# The server finishes sessions and the queue on SIGTERM. The primary process stops its workers
# itself; whatever is left after TimeoutStopSec is killed. Reload: the workers are replaced one at
# a time and read postern.conf again (docs/scaling.md).
KillSignal=SIGTERM
KillMode=mixed
ExecReload=/bin/kill -HUP $MAINPID
TimeoutStopSec=30s
LimitNOFILE=65536
UMask=0027

# Ports 25, 143, 443, 465, 587, 993 without root: this capability and no other.
AmbientCapabilities=CAP_NET_BIND_SERVICE
CapabilityBoundingSet=CAP_NET_BIND_SERVICE
NoNewPrivileges=yes

# Everything read-only but the data directory.
ProtectSystem=strict
ReadWritePaths=${quote(dir)}
${inHome ? '# The data directory or Node.js is under a home directory: homes stay visible, read-only.\nProtectHome=read-only' : 'ProtectHome=yes'}
PrivateTmp=yes
PrivateDevices=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
ProtectProc=invisible
RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX
RestrictNamespaces=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
RemoveIPC=yes
SystemCallArchitectures=native
SystemCallFilter=@system-service
SystemCallFilter=~@privileged
# MemoryDenyWriteExecute is left off: V8's JIT compiler needs writable executable memory.

[Install]
WantedBy=multi-user.target
`;
}
