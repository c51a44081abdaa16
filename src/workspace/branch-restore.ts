// Putting a task's branch back where the guard's baseline had it: the agent's commits, resets or a
// checked-out other branch undone (HEAD re-attached to the task branch), and a reverted path committed
// when the agent had committed it. Gantry's own git here never runs hooks.
import { git, gitOut } from './git.js';

const NO_HOOKS = ['-c', 'core.hooksPath=/dev/null'];

/** The agent's HEAD a checkpoint recorded (its `Gantry-Head:` trailer); a plain commit is its own head. */
export async function headOfBaseline(cwd: string, sha: string): Promise<string> {
  const msg = await gitOut(['log', '-1', '--format=%B', sha], { cwd });
  return /^Gantry-Head: ([0-9a-f]{40,64})$/m.exec(msg)?.[1] ?? sha;
}

/** HEAD's commit, or a marker when HEAD is not the task branch (detached, or another branch checked out). */
export async function currentHead(cwd: string, branch: string): Promise<string> {
  const sym = await git(['symbolic-ref', '-q', 'HEAD'], { cwd, okCodes: [1, 128] });
  const head = await git(['rev-parse', '-q', '--verify', 'HEAD^{commit}'], { cwd, okCodes: [1, 128] });
  if (sym.stdout.trim() !== `refs/heads/${branch}`) return `moved:${sym.stdout.trim() || 'detached'}:${head.stdout.trim()}`;
  return head.stdout.trim();
}

/** HEAD on the task branch again, at `sha`, with the agent's index matching it (files are left alone). */
export async function restoreBranch(cwd: string, branch: string, sha: string): Promise<void> {
  await git(['symbolic-ref', 'HEAD', `refs/heads/${branch}`], { cwd });
  await git([...NO_HOOKS, 'reset', '-q', '--mixed', sha], { cwd });
}

/** Commit the reverted paths on the task branch when they differ from the baseline's head. */
export async function commitRevert(cwd: string, baseHead: string, paths: readonly string[]): Promise<void> {
  const literal = paths.map((p) => `:(literal)${p}`);
  const differs = await gitOut(['diff', '--name-only', baseHead, 'HEAD', '--', ...literal], { cwd });
  if (differs === '') return;
  await git(['add', '-A', '--', ...literal], { cwd });
  await git([...NO_HOOKS, 'commit', '-q', '--no-verify', '-m', `gantry guard: revert ${paths.length} path(s) outside the rules`, '--', ...literal], { cwd });
}
