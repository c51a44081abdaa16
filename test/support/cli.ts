// Runs the real `gantry` command line as a child process, from the TypeScript sources
// (test/support/gantry-source.mjs); test/cli/package.test.ts covers the built, packed `gantry`.
import { spawn } from 'node:child_process';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

/** PATH with node, git and the system tools, and no agent CLI (/usr/local/bin may hold global npm installs). */
export const NO_AGENTS_PATH = `${dirname(process.execPath)}:/usr/bin:/bin`;
export const GIT_IDENTITY = { GIT_AUTHOR_NAME: 'Test', GIT_AUTHOR_EMAIL: 'test@gantry.invalid', GIT_COMMITTER_NAME: 'Test', GIT_COMMITTER_EMAIL: 'test@gantry.invalid' };

/** A script to run with `node`: the CLI entry from source. */
export const GANTRY_BIN = fileURLToPath(new URL('./gantry-source.mjs', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function gantry(args: string[], opts: { cwd?: string; env?: Record<string, string>; input?: string } = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [GANTRY_BIN, ...args], {
      cwd: opts.cwd ?? process.cwd(),
      env: { ...process.env, GANTRY_URL: '', GANTRY_TOKEN: '', ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.stdin.end(opts.input ?? '');
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}
