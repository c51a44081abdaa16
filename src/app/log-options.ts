// Where a long-running process (`gantry up`, `gantry factory`) logs, from flags, then env, then
// its default. Pure: the caller opens the destination.
import { isAbsolute, resolve } from 'node:path';
import { GantryError } from '../domain/errors.js';
import { LOG_LEVELS, type LogLevel, type LogOptions } from '../api/logger.js';

export interface LogFlags {
  log?: string | undefined;
  logLevel?: string | undefined;
}

export interface LogDefaults {
  /** The rotated file used by `file` (e.g. `<home>/logs/coordinator.log`). */
  file: string;
  /** Where logs go when neither flag nor env says: `file` on a laptop, `stderr` for a factory. */
  fallback: 'file' | 'stdout' | 'stderr';
  cwd?: string;
}

const SIZE = /^[1-9]\d*[KMG]$/;

export function resolveLogOptions(f: LogFlags, env: NodeJS.ProcessEnv, d: LogDefaults): LogOptions {
  const level = (f.logLevel ?? (env.GANTRY_LOG_LEVEL || 'info')).trim().toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new GantryError('validation', `log level must be one of ${LOG_LEVELS.join(', ')} (got "${level}")`, { field: 'log-level', hint: 'pass --log-level info, or set GANTRY_LOG_LEVEL' });
  }
  // Under systemd (journald reads stdout) a service logs to stdout unless told otherwise.
  const where = (f.log ?? (env.GANTRY_LOG || (env.JOURNAL_STREAM ? 'stdout' : d.fallback))).trim();
  const maxSize = (env.GANTRY_LOG_MAX_SIZE || '10M').trim().toUpperCase();
  if (!SIZE.test(maxSize)) throw new GantryError('validation', `GANTRY_LOG_MAX_SIZE must look like 10M, 500K or 1G (got "${maxSize}")`, { field: 'GANTRY_LOG_MAX_SIZE', hint: 'a number followed by K, M or G' });
  const keep = Number(env.GANTRY_LOG_KEEP || 5);
  if (!Number.isInteger(keep) || keep < 1 || keep > 100) throw new GantryError('validation', `GANTRY_LOG_KEEP must be an integer from 1 to 100 (got "${env.GANTRY_LOG_KEEP}")`, { field: 'GANTRY_LOG_KEEP', hint: 'how many rotated files to keep' });
  const file = (path: string): LogOptions => ({ level: level as LogLevel, destination: { kind: 'file', path, maxSize, keep } });
  if (where === 'stdout' || where === 'stderr') return { level: level as LogLevel, destination: { kind: where } };
  if (where === 'file') return file(d.file);
  if (where.includes('/') || where.endsWith('.log')) return file(isAbsolute(where) ? where : resolve(d.cwd ?? process.cwd(), where));
  throw new GantryError('validation', `--log must be stdout, stderr, file or a file path (got "${where}")`, {
    field: 'log',
    hint: 'stdout for a service (journald, containers), file for the rotated <home>/logs file, or a path such as /var/log/gantry/coordinator.log',
  });
}
