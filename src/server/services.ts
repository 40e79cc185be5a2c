// Which code serves which listener service. A service without a starter is not served yet.

import type { ServiceName } from '../config/types.js';
import { startImapListener } from '../imap/server/index.js';
import { startSmtpListener } from '../smtp/server/index.js';
import { startWebListener } from '../web/index.js';
import type { ServerContext } from './context.js';

export interface ServiceOptions {
  host: string;
  port: number;
  requestClientCert: boolean;
}

export type ServiceStarter = (ctx: ServerContext, opts: ServiceOptions) => Promise<{ port: number; close(): Promise<void> }>;

export const SERVICE_STARTERS: Partial<Record<ServiceName, ServiceStarter>> = {
  smtp: (ctx, o) => startSmtpListener(ctx, { ...o, kind: 'smtp', implicitTls: false, requestClientCert: false }),
  submission: (ctx, o) => startSmtpListener(ctx, { ...o, kind: 'submission', implicitTls: false }),
  submissions: (ctx, o) => startSmtpListener(ctx, { ...o, kind: 'submission', implicitTls: true }),
  imap: (ctx, o) => startImapListener(ctx, { ...o, implicitTls: false }),
  imaps: (ctx, o) => startImapListener(ctx, { ...o, implicitTls: true }),
  http: (ctx, o) => startWebListener(ctx, { host: o.host, port: o.port, tls: false }),
  https: (ctx, o) => startWebListener(ctx, { host: o.host, port: o.port, tls: true }),
};
