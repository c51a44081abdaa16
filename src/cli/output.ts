// Output conventions: human text by default, one JSON document with --json; errors are one line on stderr.
import { isGantryError } from '../domain/errors.js';
import { localize } from './self.js';

export interface OutputFlags {
  json?: boolean;
}

export function emit(flags: OutputFlags, data: unknown, human: () => string): void {
  if (flags.json) process.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
  else {
    const text = localize(human());
    if (text) process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  }
}

export function errorLine(e: unknown): string {
  if (isGantryError(e)) {
    const msg = e.message.split('\n').join('; ');
    return localize(`gantry: ${msg}${e.hint ? ` — ${e.hint}` : ''}`);
  }
  return localize(`gantry: ${e instanceof Error ? e.message : String(e)}`);
}

export function table(rows: readonly (readonly string[])[], header: readonly string[]): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => visibleLength(r[i] ?? ''))));
  return all
    .map((r) =>
      r
        .map((c, i) => (i === r.length - 1 ? c : c + ' '.repeat(widths[i]! - visibleLength(c))))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

const visibleLength = (s: string): number => s.replace(/\x1b\[[0-9;]*m/g, '').length;

export function ago(ms: number, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86400) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

export const truncate = (s: string, n: number): string => (s.length > n ? `${s.slice(0, n - 1)}…` : s);
