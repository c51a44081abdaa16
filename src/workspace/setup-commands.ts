// Runs the project's setup commands in a workspace. They come from gantry.yaml (the operator's own
// commands), so they run through `sh -c` as written; Gantry's paths reach them only as cwd and env.
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { GantryError } from '../domain/errors.js';

export async function runSetupCommand(
  command: string,
  opts: { cwd: string; env: Record<string, string>; logFile: string; timeoutMs: number },
): Promise<void> {
  const log = createWriteStream(opts.logFile, { flags: 'a' });
  const tail: string[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      log.write(`$ ${command}\n`);
      const child = spawn('sh', ['-c', command], { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      const onData = (b: Buffer) => {
        log.write(b);
        tail.push(b.toString('utf8'));
        if (tail.length > 20) tail.shift();
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      const timer = setTimeout(() => {
        try {
          process.kill(-child.pid!, 'SIGKILL'); // the whole process group: sh and what it started
        } catch {
          /* already gone */
        }
      }, opts.timeoutMs);
      child.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        if (code === 0) return resolve();
        const last = tail.join('').trim().split('\n').slice(-5).join('\n');
        reject(
          new GantryError('bad_request', `setup command \`${command}\` ${signal ? `was killed (${signal})` : `exited ${code}`}${last ? `:\n${last}` : ''}`, {
            hint: 'fix workspace.setup.commands in gantry.yaml, or provision with lightweight mode',
          }),
        );
      });
    });
  } finally {
    await new Promise((r) => log.end(r));
  }
}
