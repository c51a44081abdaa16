// Runs one agent as a child process in its own process group: output appended to a per-session
// log, stdout handed over line by line, total and inactivity limits, and stop = SIGTERM to the
// whole group, then SIGKILL after a grace period. The exit code and why it ended are recorded.
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Readable } from 'node:stream';
import type { ExitInfo, ExitReason } from '../../ports/agent.js';
import { LineSplitter } from './line-splitter.js';
import { clearProcess, recordProcess } from './pid-record.js';

export interface SuperviseSpec {
  argv: string[];
  cwd: string;
  env: Record<string, string>;
  logFile: string;
  /** Written to stdin, which is then closed; without it stdin is /dev/null. */
  stdin?: string;
  timeoutMs?: number;
  inactivityMs?: number;
  killGraceMs?: number;
  onLine(line: string, truncated: boolean): void;
  /** Rewrites stdout lines before they reach the log (e.g. an agent that echoes the prompt); stdout is then logged line by line. */
  logLine?(line: string): string;
}

export interface Supervised {
  pid: number;
  /** Resolves after the process exited and its stdout was drained. */
  exited: Promise<ExitInfo>;
  signal(sig: NodeJS.Signals): void;
  stop(reason?: ExitReason): Promise<ExitInfo>;
}

/** How long to wait for stdout to drain after exit when a stray descendant holds the pipe. */
const DRAIN_CAP_MS = 2000;

function killGroup(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig);
  } catch {
    // ESRCH: the group is already gone.
  }
}

export function supervise(spec: SuperviseSpec): Supervised {
  mkdirSync(dirname(spec.logFile), { recursive: true });
  const log = createWriteStream(spec.logFile, { flags: 'a', mode: 0o600 });
  const [cmd, ...args] = spec.argv;
  if (!cmd) throw new Error('supervise: empty argv');
  const child = spawn(cmd, args, {
    cwd: spec.cwd,
    env: spec.env,
    detached: true, // own process group, so stop() reaches every descendant
    stdio: [spec.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  const pid = child.pid ?? 0;
  // Leaves a trail should this process die before the agent: the next start kills the orphan.
  if (pid) recordProcess(spec.logFile, pid);
  const stdout = child.stdout as Readable;
  const stderr = child.stderr as Readable;
  let stopReason: ExitReason | null = null;
  let exitedAt = false;
  const timers: NodeJS.Timeout[] = [];
  let inactivity: NodeJS.Timeout | null = null;

  const splitter = new LineSplitter(spec.onLine);
  const armInactivity = (): void => {
    if (!spec.inactivityMs) return;
    if (inactivity) clearTimeout(inactivity);
    inactivity = setTimeout(() => void stop('inactive'), spec.inactivityMs);
  };

  let stdoutDone!: () => void;
  const stdoutClosed = new Promise<void>((r) => (stdoutDone = r));
  stdout.setEncoding('utf8');
  const redact = spec.logLine;
  const logSplitter = redact ? new LineSplitter((line, truncated) => log.write(truncated ? line : `${redact(line)}\n`)) : null;
  stdout.on('data', (chunk: string) => {
    if (logSplitter) logSplitter.push(chunk);
    else log.write(chunk);
    armInactivity();
    splitter.push(chunk);
  });
  stdout.on('close', () => stdoutDone());
  stderr.on('data', (chunk: Buffer) => {
    log.write(chunk);
    armInactivity();
  });
  if (spec.stdin !== undefined && child.stdin) {
    child.stdin.on('error', () => undefined); // the agent may exit before reading its input
    child.stdin.end(spec.stdin);
  }
  if (spec.timeoutMs) timers.push(setTimeout(() => void stop('timeout'), spec.timeoutMs));
  armInactivity();

  const exited = new Promise<ExitInfo>((resolve) => {
    const finish = (info: ExitInfo): void => {
      timers.forEach(clearTimeout);
      if (inactivity) clearTimeout(inactivity);
      splitter.end();
      logSplitter?.end();
      log.end(() => resolve(info));
    };
    child.on('error', (err) => {
      if (pid === 0) {
        log.write(`gantry: could not start ${cmd}: ${err.message}\n`);
        stdoutDone();
        finish({ code: null, signal: null, reason: 'spawn_failed' });
      }
    });
    child.on('exit', (code, signal) => {
      exitedAt = true;
      // Reap anything the agent left behind in its group (it would hold the pipe open).
      killGroup(pid, 'SIGKILL');
      const cap = setTimeout(() => {
        stdout.destroy();
        stdoutDone();
      }, DRAIN_CAP_MS);
      clearProcess(spec.logFile);
      void stdoutClosed.then(() => {
        clearTimeout(cap);
        finish({ code, signal, reason: stopReason ?? 'exited' });
      });
    });
  });

  async function stop(reason: ExitReason = 'stopped'): Promise<ExitInfo> {
    if (!exitedAt && pid && stopReason === null) {
      stopReason = reason;
      killGroup(pid, 'SIGTERM');
      const kill = setTimeout(() => killGroup(pid, 'SIGKILL'), spec.killGraceMs ?? 5000);
      void exited.then(() => clearTimeout(kill));
    }
    return exited;
  }

  return {
    pid,
    exited,
    signal: (sig) => {
      if (pid && !exitedAt) killGroup(pid, sig);
    },
    stop,
  };
}
