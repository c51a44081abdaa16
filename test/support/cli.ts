// Runs the real `gantry` binary as a child process.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const GANTRY_BIN = fileURLToPath(new URL('../../bin/gantry.js', import.meta.url));

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
