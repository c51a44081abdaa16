// Interactive mode: the agent's own TUI runs in a detached tmux session a person can attach to
// (`gantry attach ID`). The environment is built from scratch inside the pane (`env -i` plus a
// 0600 env file), so tmux's global environment (e.g. a leaked CLAUDECODE) never reaches the agent.
// The pane's output is piped to the session log; liveness is polled; a small wrapper records the
// exit status in a file, since the tmux session disappears with its process.
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { constants } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import type { ExitInfo, ExitReason } from '../../ports/agent.js';

const run = promisify(execFile);

export const tmuxSessionName = (sessionId: string): string => `gantry-${sessionId.replace(/[^A-Za-z0-9_-]/g, '_')}`;

/** POSIX single-quote a word for the env file. */
const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

export interface TmuxSpec {
  sessionId: string;
  argv: string[];
  cwd: string;
  env: Record<string, string>;
  logFile: string;
  pollMs?: number;
  killGraceMs?: number;
}

export interface TmuxRun {
  name: string;
  pid: number;
  exited: Promise<ExitInfo>;
  interrupt(): void;
  stop(reason?: ExitReason): Promise<ExitInfo>;
}

async function tmux(...args: string[]): Promise<string> {
  const { stdout } = await run('tmux', args, { timeout: 10_000 });
  return stdout.trim();
}

export async function hasTmuxSession(name: string): Promise<boolean> {
  return tmux('has-session', '-t', `=${name}`).then(
    () => true,
    () => false,
  );
}

const signalName = (n: number): string | null =>
  (Object.entries(constants.signals).find(([, v]) => v === n)?.[0] as string | undefined) ?? null;

/** Reads the wrapper's status file: `128+n` is death by signal n, as the shell reports it. */
function exitFromStatus(text: string | null, reason: ExitReason): ExitInfo {
  const n = text === null ? Number.NaN : Number.parseInt(text, 10);
  if (!Number.isFinite(n)) return { code: null, signal: null, reason };
  return n > 128 && signalName(n - 128) ? { code: null, signal: signalName(n - 128), reason } : { code: n, signal: null, reason };
}

export async function launchInTmux(spec: TmuxSpec): Promise<TmuxRun> {
  const name = tmuxSessionName(spec.sessionId);
  const dir = dirname(spec.logFile);
  mkdirSync(dir, { recursive: true });
  const envFile = join(dir, `${spec.sessionId}.tmux-env`);
  const ready = join(dir, `${spec.sessionId}.tmux-ready`);
  const status = join(dir, `${spec.sessionId}.tmux-status`);
  rmSync(status, { force: true });
  rmSync(ready, { force: true });
  writeFileSync(envFile, Object.entries(spec.env).map(([k, v]) => `export ${k}=${quote(v)}`).join('\n') + '\n', { mode: 0o600 });
  // Wait until the log pipe is attached, load the env, run the agent, record its status.
  const script = [
    `while [ ! -e ${quote(ready)} ]; do sleep 0.02; done`,
    `. ${quote(envFile)}`,
    `rm -f ${quote(envFile)} ${quote(ready)}`,
    '"$@"',
    `echo $? > ${quote(status)}`,
  ].join('; ');
  await tmux('new-session', '-d', '-s', name, '-x', '200', '-y', '50', '-c', spec.cwd, 'env', '-i', '/bin/sh', '-c', script, 'sh', ...spec.argv);
  const target = `=${name}:`;
  await tmux('pipe-pane', '-t', target, '-o', `cat >> ${quote(spec.logFile)}`);
  const pid = Number(await tmux('display-message', '-p', '-t', target, '#{pane_pid}'));
  writeFileSync(ready, '');
  let reason: ExitReason | null = null;

  const exited = new Promise<ExitInfo>((resolve) => {
    const poll = setInterval(() => {
      void (async () => {
        if (await hasTmuxSession(name)) return;
        clearInterval(poll);
        let text: string | null = null;
        try {
          text = readFileSync(status, 'utf8');
        } catch {
          // killed before the wrapper could record a status
        }
        rmSync(status, { force: true });
        resolve(exitFromStatus(text, reason ?? 'exited'));
      })();
    }, spec.pollMs ?? 250);
  });

  const killGroup = (sig: NodeJS.Signals): void => {
    try {
      process.kill(-pid, sig);
    } catch {
      // already gone
    }
  };

  return {
    name,
    pid,
    exited,
    interrupt: () => void tmux('send-keys', '-t', target, 'C-c').catch(() => undefined),
    async stop(r = 'stopped') {
      reason ??= r;
      killGroup('SIGTERM');
      const t = setTimeout(() => {
        killGroup('SIGKILL');
        void tmux('kill-session', '-t', `=${name}`).catch(() => undefined);
      }, spec.killGraceMs ?? 5000);
      const info = await exited;
      clearTimeout(t);
      return info;
    },
  };
}
