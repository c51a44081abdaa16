// Is a process id alive? `kill(pid, 0)` checks without signalling. EPERM means it exists but is
// not ours (alive); any other error is indeterminate, which callers must not read as "gone".
export type PidState = 'alive' | 'missing' | 'unknown';

export function probePid(pid: number): PidState {
  if (!Number.isInteger(pid) || pid <= 0) return 'unknown';
  try {
    process.kill(pid, 0);
    return 'alive';
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ESRCH') return 'missing';
    if (code === 'EPERM') return 'alive';
    return 'unknown';
  }
}
