// Minimal git invocation used outside workspaces (project registration, doctor).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export async function git(cwd: string, args: readonly string[]): Promise<string> {
  const { stdout } = await run('git', [...args], { cwd, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } });
  return stdout.trimEnd();
}

export async function repoRoot(path: string): Promise<string | null> {
  try {
    return await git(path, ['rev-parse', '--show-toplevel']);
  } catch {
    return null;
  }
}

export async function currentBranch(path: string): Promise<string | null> {
  try {
    return await git(path, ['symbolic-ref', '--short', 'HEAD']);
  } catch {
    return null;
  }
}

export async function gitVersion(): Promise<string | null> {
  try {
    const { stdout } = await run('git', ['--version']);
    return stdout.trim().replace(/^git version /, '');
  } catch {
    return null;
  }
}
