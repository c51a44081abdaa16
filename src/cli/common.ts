// Options every command shares, and how a command's action is run (errors → one line, exit code).
import { InvalidArgumentError, type Command } from 'commander';
import { errorLine, type OutputFlags } from './output.js';
import { ApiClient, resolveTarget, type ConnectionFlags } from './client.js';

export type CommonFlags = OutputFlags & ConnectionFlags;

export function withCommon(cmd: Command): Command {
  return cmd
    .option('--json', 'print one JSON document on stdout')
    .option('--home <dir>', 'Gantry home directory (GANTRY_HOME, default ~/.gantry)')
    .option('--url <url>', 'coordinator URL (GANTRY_URL, default from <home>/daemon.json)')
    .option('--token-file <path>', 'read the API token from this file (GANTRY_TOKEN_FILE; default <home>/admin.token)')
    .option('--token <token>', 'API token (GANTRY_TOKEN); visible to other users in `ps`: prefer --token-file');
}

export const client = (f: ConnectionFlags): ApiClient => new ApiClient(resolveTarget(f));

/** Wraps an action: any thrown error becomes one line on stderr and exit code 1 (2 for usage errors). */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (e) {
      process.stderr.write(`${errorLine(e)}\n`);
      process.exitCode = (e as { code?: string }).code === 'validation' || (e as { code?: string }).code === 'bad_request' ? 2 : 1;
    }
  };
}

export const examples = (lines: string[]): string => `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`;

export function intArg(name: string, min: number, max: number): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max} (got "${v}")`);
    return n;
  };
}
