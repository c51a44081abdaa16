// The checks runner: each check is a real child process (`sh -c`) in the workspace, in its own
// process group so a timeout kills everything it started. Output goes to a log file; the tail is
// kept for the fixer's prompt and the notification.
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { logTail } from '../domain/pipeline/fix-loop.js';
import { projectCommandEnv } from '../lib/command-env.js';
import type { CheckResult, Checks, CheckSpec } from '../ports/engine.js';

const TAIL = 4000;

export class ChecksRunner implements Checks {
  constructor(private readonly opts: { killGraceMs?: number; env?: NodeJS.ProcessEnv } = {}) {}

  async run(workspace: string, checks: readonly CheckSpec[], o: { logDir: string; signal?: AbortSignal }): Promise<CheckResult[]> {
    mkdirSync(o.logDir, { recursive: true });
    const out: CheckResult[] = [];
    for (const c of checks) {
      if (o.signal?.aborted) break;
      out.push(await this.one(workspace, c, join(o.logDir, `${c.name}.log`), o.signal));
    }
    return out;
  }

  private one(cwd: string, c: CheckSpec, logFile: string, signal?: AbortSignal): Promise<CheckResult> {
    const started = Date.now();
    return new Promise((resolvePromise) => {
      const log = createWriteStream(logFile);
      let tail = '';
      const keep = (b: Buffer): void => {
        log.write(b);
        tail = logTail(tail + b.toString('utf8'), TAIL * 2);
      };
      const child = spawn('sh', ['-c', c.run ?? 'true'], { cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: this.opts.env ?? projectCommandEnv(process.env) });
      child.stdout.on('data', keep);
      child.stderr.on('data', keep);
      let timedOut = false;
      const kill = (): void => {
        try {
          process.kill(-child.pid!, 'SIGTERM');
        } catch {
          /* already gone */
        }
        setTimeout(() => {
          try {
            process.kill(-child.pid!, 'SIGKILL');
          } catch {
            /* already gone */
          }
        }, this.opts.killGraceMs ?? 2000).unref();
      };
      const timer = setTimeout(() => {
        timedOut = true;
        kill();
      }, c.timeout * 1000);
      const onAbort = (): void => kill();
      signal?.addEventListener('abort', onAbort, { once: true });
      let finished = false;
      const finish = (code: number | null, spawnError?: string): void => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (spawnError) keep(Buffer.from(`\n${spawnError}\n`));
        if (timedOut) keep(Buffer.from(`\n[gantry] ${c.name} timed out after ${c.timeout}s\n`));
        log.end(() =>
          resolvePromise({ name: c.name, ok: code === 0 && !timedOut, exitCode: code, timedOut, durationMs: Date.now() - started, logFile, tail: logTail(tail, TAIL) }),
        );
      };
      child.on('error', (e) => finish(null, e.message));
      child.on('close', (code) => finish(code));
    });
  }
}
