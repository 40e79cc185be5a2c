// Which code serves which listener service. A service without a starter is not served yet.

import type { ServiceName } from '../config/types.js';
import type { ServerContext } from './context.js';

export interface ServiceOptions {
  host: string;
  port: number;
  requestClientCert: boolean;
}

export type ServiceStarter = (ctx: ServerContext, opts: ServiceOptions) => Promise<{ port: number; close(): Promise<void> }>;

export const SERVICE_STARTERS: Partial<Record<ServiceName, ServiceStarter>> = {
};
