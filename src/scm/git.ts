// Minimal git invocation used outside workspaces (project registration, doctor), through the one
// hardened runner (src/workspace/git.ts): a repository's planted hooks and programs never run.
import { git as run } from '../workspace/git.js';

export async function git(cwd: string, args: readonly string[]): Promise<string> {
  return (await run(args, { cwd })).stdout.trimEnd();
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
    return (await run(['--version'], { cwd: process.cwd() })).stdout.trim().replace(/^git version /, '');
  } catch {
    return null;
  }
}
