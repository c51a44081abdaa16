// Checkpoint refs pushed to a remote, several at once: pushes of one repository to one remote that
// are asked for while another is running go out together as one `git push` (one process, one
// connection, one pack), each caller still told whether its own ref landed. No `--atomic`: a ref the
// remote refuses fails alone.
import { Batcher } from '../lib/batcher.js';
import { git } from './git.js';

/** What became of each ref of a push: null when it is on the remote, else the reason it is not. */
export type PushVerdicts = Map<string, string | null>;

/**
 * Pure: each destination ref's verdict from `git push --porcelain`'s output and exit code. A ref the
 * output does not mention has the push's own verdict: landed if git succeeded, else its error.
 */
export function pushVerdicts(refs: readonly string[], code: number, stdout: string, stderr: string): PushVerdicts {
  const lines = new Map<string, string | null>();
  for (const line of stdout.split('\n')) {
    // "<flag>\t<from>:<to>\t<summary>"; `!` is a rejection, every other flag a ref that is there.
    const m = /^(.)\t([^\t]*)\t(.*)$/.exec(line);
    if (!m) continue;
    const to = m[2]!.slice(m[2]!.lastIndexOf(':') + 1);
    lines.set(to, m[1] === '!' ? m[3]!.trim() : null);
  }
  const failure = stderr.trim().split('\n').filter(Boolean).slice(-3).join(' | ') || `git push exited with ${code}`;
  return new Map(refs.map((r) => [r, lines.has(r) ? lines.get(r)! : code === 0 ? null : failure]));
}

export class RefPusher {
  private readonly lanes = new Map<string, Batcher<string, string | null>>();

  /** Pushes `ref` (same name on both sides) from `repo` to `remote`; resolves to null once it is there, else the reason. */
  push(repo: string, remote: string, ref: string): Promise<string | null> {
    const key = `${repo}\0${remote}`;
    let lane = this.lanes.get(key);
    if (!lane) {
      // One push at a time per repository and remote; whatever arrives meanwhile is the next push.
      lane = new Batcher((refs) => this.pushAll(repo, remote, refs), 1, 64);
      this.lanes.set(key, lane);
    }
    return lane.run(ref);
  }

  private async pushAll(repo: string, remote: string, refs: string[]): Promise<(string | null)[]> {
    const unique = [...new Set(refs)];
    const r = await git(['push', '--porcelain', remote, ...unique.map((ref) => `${ref}:${ref}`)], { cwd: repo, okCodes: [1, 128] });
    const verdicts = pushVerdicts(unique, r.code, r.stdout, r.stderr);
    return refs.map((ref) => verdicts.get(ref) ?? null);
  }
}
