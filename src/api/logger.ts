// The structured logger port, implemented on pino. Callers pass ids (task, run, factory, session)
// as fields, never inside the message, and only fields that are safe to log: prompts, bodies and
// tokens are also redacted by path as a second line of defence (DESIGN §5 inv. 9).
import { once } from 'node:events';
import { mkdirSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { pino, stdSerializers, stdTimeFunctions, type DestinationStream, type Logger as Pino } from 'pino';
import { createStream } from 'rotating-file-stream';

export type Fields = Record<string, unknown>;

export interface Logger {
  debug?(msg: string, fields?: Fields): void;
  info(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  error(msg: string, fields?: Fields): void;
  /** A logger whose every line carries `bindings` (e.g. `{component: 'fleet'}`). */
  child?(bindings: Fields): Logger;
}

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export type LogDestination =
  | { kind: 'stdout' }
  | { kind: 'stderr' }
  /** A file rotated when it reaches `maxSize` (`10M`), keeping `keep` older files as `<name>.1` … `<name>.<keep>`. */
  | { kind: 'file'; path: string; maxSize: string; keep: number };

export interface LogOptions {
  level: LogLevel;
  destination: LogDestination;
}

/** A logger that owns its destination: `close()` flushes and closes it. */
export interface OwnedLogger {
  logger: Logger;
  close(): Promise<void>;
}

// Field names that may hold a secret or a body wherever they appear (up to two levels deep).
const SECRET_KEYS = ['token', 'authorization', 'cookie', 'password', 'secret', 'prompt', 'body', 'bodyMd', 'accessToken', 'access_token'];
export const REDACT_PATHS = SECRET_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]);

export const silentLogger: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined, child: () => silentLogger };

function wrap(p: Pino): Logger {
  const at = (l: 'debug' | 'info' | 'warn' | 'error') => (msg: string, fields?: Fields) => {
    if (fields) p[l](withErr(fields), msg);
    else p[l](msg);
  };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: (b) => wrap(p.child(b)) };
}

// `err` given as an Error is logged with its type, message and stack.
const withErr = (f: Fields): Fields => (f.err instanceof Error ? { ...f, err: stdSerializers.err(f.err) } : f);

function make(level: LogLevel, dest: DestinationStream): Pino {
  return pino(
    {
      level,
      base: { pid: process.pid },
      timestamp: stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    },
    dest,
  );
}

export function createLogger(o: LogOptions): OwnedLogger {
  const d = o.destination;
  if (d.kind === 'stdout' || d.kind === 'stderr') {
    // Synchronous writes: a line logged just before a crash is not lost in a buffer.
    const dest = pino.destination({ dest: d.kind === 'stdout' ? 1 : 2, sync: true });
    return { logger: wrap(make(o.level, dest)), close: async () => dest.flushSync() };
  }
  mkdirSync(dirname(d.path), { recursive: true, mode: 0o700 });
  // Classic logrotate naming: the live file keeps its name; older ones are <name>.1 (newest) … <name>.<keep>.
  const stream = createStream(basename(d.path), {
    path: dirname(d.path),
    size: d.maxSize,
    rotate: d.keep,
    mode: 0o600,
  });
  stream.on('error', () => undefined); // a failing log file must never take the coordinator down
  return {
    logger: wrap(make(o.level, stream)),
    close: async () => {
      if (stream.writableEnded) return;
      const done = once(stream, 'finish').catch(() => undefined);
      stream.end();
      await done;
    },
  };
}

/** A logger writing JSON lines to `write` (tests and embedders). */
export function jsonLogger(write: (line: string) => void, level: LogLevel = 'info'): Logger {
  return wrap(make(level, { write }));
}
