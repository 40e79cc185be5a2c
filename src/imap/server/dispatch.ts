// Per-state dispatch: which commands each connection state accepts, and their handlers.
import type { Command, CommandName, CommandOf } from '../proto/types.js';
import { handleAppend } from './cmd-append.js';
import { handleCancelUpdate } from './cmd-cancel-update.js';
import { handleCapability, handleId, handleLogout, handleNoop } from './cmd-any.js';
import { handleCompress } from './cmd-compress.js';
import { handleCopyMove } from './cmd-copy-move.js';
import { handleEnable } from './cmd-enable.js';
import { handleExpunge } from './cmd-expunge.js';
import { handleFetch } from './cmd-fetch.js';
import { handleIdle } from './cmd-idle.js';
import { handleList, handleLsub, handleNamespace } from './cmd-list.js';
import { handleCreate, handleDelete, handleRename, handleSubscribe } from './cmd-mailbox.js';
import { handleGetMetadata, handleSetMetadata } from './cmd-metadata.js';
import { handleNotify } from './cmd-notify.js';
import { handleGetQuota, handleGetQuotaRoot, handleSetQuota } from './cmd-quota.js';
import { handleReplace } from './cmd-replace.js';
import { handleEsearch, handleSearch } from './cmd-search.js';
import { handleSort } from './cmd-sort.js';
import { handleThread } from './cmd-thread.js';
import { handleGenUrlauth, handleResetKey, handleUrlFetch } from './cmd-urlauth.js';
import { handleCheck, handleClose, handleSelect, handleUnselect } from './cmd-select.js';
import { handleStatus } from './cmd-status.js';
import { handleStore } from './cmd-store.js';
import { handleAuthenticate, handleLogin, handleStartTls } from './authenticate.js';
import type { ConnState, ImapConnection } from './connection.js';
import { bad, no } from './errors.js';
import { uidOnlyRefusal } from './uidonly.js';

export interface CommandResult {
  code?: string;
  text?: string;
  /** The handler wrote the tagged reply itself (STARTTLS, LOGOUT). */
  taggedSent?: boolean;
}

type Handler<N extends CommandName> = (conn: ImapConnection, cmd: CommandOf<N>) => Promise<CommandResult | void>;
type Entry = { states: ConnState[]; handler: Handler<never> };

const ANY: ConnState[] = ['notauth', 'auth', 'selected'];
const NOTAUTH: ConnState[] = ['notauth'];
const AUTH: ConnState[] = ['auth', 'selected'];
const SELECTED: ConnState[] = ['selected'];

function entry<N extends CommandName>(states: ConnState[], handler: Handler<N>): Entry {
  return { states, handler: handler as Handler<never> };
}

const TABLE: Record<CommandName, Entry> = {
  CAPABILITY: entry(ANY, handleCapability),
  NOOP: entry(ANY, handleNoop),
  LOGOUT: entry(ANY, handleLogout),
  ID: entry(ANY, handleId),
  STARTTLS: entry(NOTAUTH, handleStartTls),
  AUTHENTICATE: entry(NOTAUTH, handleAuthenticate),
  LOGIN: entry(NOTAUTH, handleLogin),
  ENABLE: entry(AUTH, handleEnable),
  COMPRESS: entry(AUTH, handleCompress),
  // RFC 4467 9: command-auth (authenticated and selected state).
  GENURLAUTH: entry(AUTH, handleGenUrlauth),
  RESETKEY: entry(AUTH, handleResetKey),
  URLFETCH: entry(AUTH, handleUrlFetch),
  SELECT: entry(AUTH, handleSelect),
  EXAMINE: entry(AUTH, handleSelect),
  CREATE: entry(AUTH, handleCreate),
  DELETE: entry(AUTH, handleDelete),
  RENAME: entry(AUTH, handleRename),
  SUBSCRIBE: entry(AUTH, handleSubscribe),
  UNSUBSCRIBE: entry(AUTH, handleSubscribe),
  LIST: entry(AUTH, handleList),
  LSUB: entry(AUTH, handleLsub),
  NAMESPACE: entry(AUTH, handleNamespace),
  STATUS: entry(AUTH, handleStatus),
  APPEND: entry(AUTH, handleAppend),
  IDLE: entry(AUTH, handleIdle),
  GETQUOTA: entry(AUTH, handleGetQuota),
  GETQUOTAROOT: entry(AUTH, handleGetQuotaRoot),
  SETQUOTA: entry(AUTH, handleSetQuota),
  GETMETADATA: entry(AUTH, handleGetMetadata),
  SETMETADATA: entry(AUTH, handleSetMetadata),
  NOTIFY: entry(AUTH, handleNotify),
  CHECK: entry(SELECTED, handleCheck),
  CLOSE: entry(SELECTED, handleClose),
  UNSELECT: entry(SELECTED, handleUnselect),
  EXPUNGE: entry(SELECTED, handleExpunge),
  SEARCH: entry(SELECTED, handleSearch),
  // RFC 7377 2.2: authenticated or selected state (the handler checks "selected").
  ESEARCH: entry(AUTH, handleEsearch),
  SORT: entry(SELECTED, handleSort),
  CANCELUPDATE: entry(SELECTED, handleCancelUpdate),
  THREAD: entry(SELECTED, handleThread),
  FETCH: entry(SELECTED, handleFetch),
  STORE: entry(SELECTED, handleStore),
  COPY: entry(SELECTED, handleCopyMove),
  MOVE: entry(SELECTED, handleCopyMove),
  REPLACE: entry(SELECTED, handleReplace),
};

export async function dispatch(conn: ImapConnection, cmd: Command): Promise<CommandResult | void> {
  const e = TABLE[cmd.name];
  if (!e.states.includes(conn.state)) {
    // Spec 2.3: LOGIN, AUTHENTICATE and STARTTLS once authenticated get NO.
    if (NOTAUTH === e.states) throw no(null, `${cmd.name} not allowed in this connection state`);
    if (conn.state === 'notauth') throw bad(`${cmd.name} not allowed before authentication`);
    throw bad(`${cmd.name} only allowed with a mailbox selected`);
  }
  if (conn.uidOnly) {
    const refusal = uidOnlyRefusal(cmd);
    if (refusal) throw bad(refusal, 'UIDREQUIRED');
  }
  return e.handler(conn, cmd as never);
}
