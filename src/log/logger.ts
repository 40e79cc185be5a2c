// Structured logging: one line per event, logfmt-style `key=value` pairs after the message, with a
// child logger per connection carrying its connection id (cid). Level from POSTERN_LOG_LEVEL.

export type Level = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export type Fields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: Fields): void;
  info(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  error(msg: string, fields?: Fields): void;
  child(fields: Fields): Logger;
}

const BARE = /^[^\s"=]+$/;

function formatValue(v: unknown): string {
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (v instanceof Error) v = v.message;
  if (v instanceof Date) v = v.toISOString();
  const s = typeof v === 'string' ? v : JSON.stringify(v) ?? 'undefined';
  return BARE.test(s) ? s : JSON.stringify(s);
}

/** ` k=v` for each defined field, in order. */
function formatFields(fields: Fields): string {
  let out = '';
  for (const k in fields) {
    const v = fields[k];
    if (v !== undefined) out += ` ${k}=${formatValue(v)}`;
  }
  return out;
}

export interface LoggerOptions {
  level?: Level;
  write?: (line: string) => void;
}

export function createLogger(opts: LoggerOptions = {}, base: Fields = {}): Logger {
  const envLevel = process.env.POSTERN_LOG_LEVEL as Level | undefined;
  const min = ORDER[opts.level ?? (envLevel && envLevel in ORDER ? envLevel : 'info')];
  const write = opts.write ?? ((line: string) => process.stderr.write(line + '\n'));
  // A connection's logger writes its fields (cid, ip...) on every line: formatted once.
  let baseText: string | null = null;
  const log = (level: Level, msg: string, fields?: Fields) => {
    if (ORDER[level] < min) return;
    let rest: string;
    if (fields && Object.keys(fields).some((k) => Object.hasOwn(base, k))) rest = formatFields({ ...base, ...fields });
    else rest = (baseText ??= formatFields(base)) + (fields ? formatFields(fields) : '');
    write(`${new Date().toISOString()} ${level} ${msg}${rest}`);
  };
  return {
    debug: (m, f) => log('debug', m, f),
    info: (m, f) => log('info', m, f),
    warn: (m, f) => log('warn', m, f),
    error: (m, f) => log('error', m, f),
    child: (fields) => createLogger(opts, { ...base, ...fields }),
  };
}

let counter = 0;
/** Short unique connection ids: process start time and a counter, base 36. */
export function newConnectionId(): string {
  counter = (counter + 1) % 0x7fffffff;
  return `${(Date.now() % 0xffffff).toString(36)}${counter.toString(36)}`;
}

export const silentLogger: Logger = createLogger({ write: () => {} });
