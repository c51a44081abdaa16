// A record, next to each agent's session log, of the process group the agent runs in, so a factory
// that died (SIGKILL, power loss) leaves a trail: the next start finds groups still alive and kills
// them before it claims anything (an unobserved agent would keep writing into a worktree another
// run now owns). The process's start time is recorded with its pid, so a reused pid is never killed.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const PID_SUFFIX = '.pid';

interface PidRecord {
  pid: number;
  started: string | null;
}

/** An identity of a process's start that a reused pid cannot share (Linux /proc, else `ps`). */
export function processStart(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22 (starttime), counted after the parenthesised command name, which may hold spaces.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    try {
      const out = execFileSync('ps', ['-o', 'lstart=', '-p', String(pid)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
      return out || null;
    } catch {
      return null;
    }
  }
}

export function recordProcess(logFile: string, pid: number): void {
  try {
    writeFileSync(`${logFile}${PID_SUFFIX}`, JSON.stringify({ pid, started: processStart(pid) } satisfies PidRecord), { mode: 0o600 });
  } catch {
    // Best effort: without the record an orphan is still found by the session's liveness probe.
  }
}

export function clearProcess(logFile: string): void {
  rmSync(`${logFile}${PID_SUFFIX}`, { force: true });
}

function killGroup(pid: number): boolean {
  try {
    process.kill(-pid, 'SIGKILL');
    return true;
  } catch {
    return false;
  }
}

/**
 * Kills every agent process group recorded under `logsDir` (`<session>/<generation>.log.pid`) that
 * is still the same process, and removes the records. Call before the factory claims: at that
 * moment no agent of this factory can legitimately be running.
 */
export function reapOrphanedAgents(logsDir: string): Array<{ sessionId: string; pid: number }> {
  const killed: Array<{ sessionId: string; pid: number }> = [];
  let sessions: string[];
  try {
    sessions = readdirSync(logsDir);
  } catch {
    return killed;
  }
  for (const sessionId of sessions) {
    let files: string[];
    try {
      files = readdirSync(join(logsDir, sessionId)).filter((f) => f.endsWith(PID_SUFFIX));
    } catch {
      continue;
    }
    for (const f of files) {
      const file = join(logsDir, sessionId, f);
      try {
        const rec = JSON.parse(readFileSync(file, 'utf8')) as PidRecord;
        const same = rec.pid > 0 && rec.started !== null && processStart(rec.pid) === rec.started;
        if (same && killGroup(rec.pid)) killed.push({ sessionId, pid: rec.pid });
      } catch {
        // An unreadable record: nothing to act on.
      }
      rmSync(file, { force: true });
    }
  }
  return killed;
}
