// Each factory's own bare mirror of a project's remote (DESIGN §9): <home>/mirrors/<project>.git.
// Task worktrees are made from it, so nothing Gantry or an agent does writes into the user's checkout.
// Fetches are incremental and serialized with the mirror's worktree operations by the repository lock,
// so concurrent provisioning and landing in one or several processes never trip over each other.
//
// Gantry keeps a record of the refs it set itself (`gantry-known-refs`): any other non-task ref that
// differs from it was moved by someone else — an agent in one of the mirror's worktrees — and the
// guard refuses it (DESIGN §9 "refs an agent moves outside its task branch are refused").
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';
import { gitDirsOf, refShaFs } from './git-paths.js';
import { GantryError } from '../domain/errors.js';
import { git, gitOut } from './git.js';
import { withRepoLock } from './worktree-ops.js';
import { withFileLock } from './file-lock.js';

/** Refs Gantry sets in a mirror itself, outside any task: every branch and tag except task branches. */
const OWN_REFS = ['refs/heads/', 'refs/tags/'];
const isTaskRef = (ref: string) => ref.startsWith('refs/heads/gantry/');

export interface MirrorProject {
  /** The directory name of the project (projectDirName). */
  dirName: string;
  /** The remote: a URL, or a local path treated exactly like one. */
  remote: string;
}

export const mirrorPath = (home: string, dirName: string): string => join(home, 'mirrors', `${dirName}.git`);

const fetchedAt = new Map<string, number>();

/** The branch SHAs of a local repository remote, read from its files; undefined for URLs or what files cannot tell. */
function localBranchShas(remote: string, branches: readonly string[]): (string | undefined)[] | undefined {
  if (!isAbsolute(remote) || !existsSync(remote)) return undefined;
  const common = existsSync(join(remote, '.git')) ? gitDirsOf(remote).common : remote;
  const shas = branches.map((b) => refShaFs(common, `refs/heads/${b}`));
  return shas.every(Boolean) ? shas : undefined;
}

/** Non-task branch and tag refs of a repository → sha. */
export async function ownRefs(repo: string): Promise<Record<string, string>> {
  const out = await gitOut(['for-each-ref', '--format=%(objectname) %(refname)', ...OWN_REFS], { cwd: repo });
  const refs: Record<string, string> = {};
  for (const line of out.split('\n').filter(Boolean)) {
    const [sha, ref] = [line.slice(0, line.indexOf(' ')), line.slice(line.indexOf(' ') + 1)];
    if (!isTaskRef(ref)) refs[ref] = sha;
  }
  return refs;
}

const knownFile = (mirror: string) => join(mirror, 'gantry-known-refs.json');

async function recordKnown(mirror: string): Promise<void> {
  // Atomic: a kill mid-write must not leave a record the guard cannot read.
  const tmp = `${knownFile(mirror)}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(await ownRefs(mirror)));
  await rename(tmp, knownFile(mirror));
}

/** The reflog prefix of every ref move Gantry makes in a mirror (GIT_REFLOG_ACTION for fetches, -m otherwise). */
const GANTRY_MOVE = 'gantry: ';
const ZERO = /^0+$/;

/**
 * Pure: whether the reflog of a ref shows only Gantry's own moves from `known` (null: the ref did not
 * exist) to `now`. Gantry moves a ref and then records it; a kill between the two leaves a ref that
 * differs from the record, and this tells that apart from an agent's move. `log` is the reflog file.
 */
export function movedByGantry(log: string, known: string | null, now: string): boolean {
  const entries = log.split('\n').filter(Boolean).map((line) => {
    const tab = line.indexOf('\t');
    const [oldSha, newSha] = line.split(' ');
    return { oldSha: oldSha ?? '', newSha: newSha ?? '', message: tab < 0 ? '' : line.slice(tab + 1) };
  });
  let cur = now;
  for (let i = entries.length - 1; i >= 0; i--) {
    const e = entries[i]!;
    if (e.newSha !== cur || !e.message.startsWith(GANTRY_MOVE)) return false;
    cur = e.oldSha;
    if (known === null ? ZERO.test(cur) : cur === known) return true;
  }
  return false;
}

/** Pure: refs whose value differs between what Gantry recorded and what is there now. */
export function movedRefs(known: Record<string, string>, now: Record<string, string>): string[] {
  const keys = new Set([...Object.keys(known), ...Object.keys(now)]);
  return [...keys].filter((k) => known[k] !== now[k]).sort();
}

export class Mirror {
  constructor(
    readonly path: string,
    readonly remote: string,
  ) {}

  static of(home: string, p: MirrorProject): Mirror {
    return new Mirror(mirrorPath(home, p.dirName), p.remote);
  }

  /** Creates the bare mirror on first use (under the lock of its parent directory). */
  private async create(): Promise<void> {
    if (existsSync(join(this.path, 'gantry-known-refs.json'))) return;
    await mkdir(dirname(this.path), { recursive: true });
    // Several processes may start on a new project at once: one creates, the others wait and see it made.
    await withFileLock(`${this.path}.lock`, () => this.createLocked());
  }

  private async createLocked(): Promise<void> {
    if (existsSync(join(this.path, 'gantry-known-refs.json'))) return;
    await git(['init', '--quiet', '--bare', this.path], { cwd: dirname(this.path) });
    // A named remote, so `checkpoints.pushTo: origin` means the project remote; fetch refspecs are always explicit.
    await git(['config', 'remote.origin.url', this.remote], { cwd: this.path });
    // So a push to origin (checkpoints, a task branch) leaves a tracking ref: teardown then knows the state is pushed.
    await git(['config', 'remote.origin.fetch', '+refs/heads/*:refs/remotes/origin/*'], { cwd: this.path });
    // Reflogs in a bare repository: what moved a ref stays visible to an operator.
    await git(['config', 'core.logAllRefUpdates', 'always'], { cwd: this.path });
    await recordKnown(this.path);
  }

  /**
   * Fetches `branches` (forced: the remote is the truth) and tags from the remote. `maxAgeMs` skips the
   * fetch when this process fetched the mirror that recently (provisioning); landing always fetches.
   */
  async fetch(branches: readonly string[], opts: { maxAgeMs?: number } = {}): Promise<void> {
    await this.create();
    if (opts.maxAgeMs !== undefined) {
      // A local remote is read from its files (no process): fetch only when a branch differs.
      const local = localBranchShas(this.remote, branches);
      if (local) {
        if (branches.every((b, i) => local[i] === refShaFs(this.path, `refs/heads/${b}`))) return;
      } else {
        const last = fetchedAt.get(this.path);
        if (last !== undefined && Date.now() - last < opts.maxAgeMs && (await this.hasBranches(branches))) return;
      }
    }
    await withRepoLock(this.path, async () => {
      const specs = branches.map((b) => `+refs/heads/${b}:refs/heads/${b}`);
      // The reflog names Gantry as the mover, so a kill before recordKnown is not blamed on an agent.
      const r = await git(['fetch', '--quiet', '--no-write-fetch-head', '--no-auto-gc', '--tags', this.remote, ...specs], { cwd: this.path, okCodes: [1, 128], env: { GIT_REFLOG_ACTION: `${GANTRY_MOVE}fetch` } });
      if (r.code !== 0) {
        throw new GantryError('bad_request', `cannot fetch ${branches.join(', ')} from the project remote: ${r.stderr.trim().split('\n').slice(-2).join(' | ')}`, {
          hint: 'check that the remote is reachable and the branch exists (`git ls-remote <remote>`); credentials come from your git credential helper or the URL',
        });
      }
      await recordKnown(this.path);
    });
    fetchedAt.set(this.path, Date.now());
  }

  private async hasBranches(branches: readonly string[]): Promise<boolean> {
    for (const b of branches) {
      const r = await git(['rev-parse', '--verify', '-q', `refs/heads/${b}`], { cwd: this.path, okCodes: [1, 128] });
      if (r.code !== 0) return false;
    }
    return true;
  }

  /** Gantry moved a ref itself (after landing): record it, so the guard does not blame an agent. */
  async setRef(ref: string, sha: string, expected: string): Promise<void> {
    await withRepoLock(this.path, async () => {
      await git(['update-ref', '-m', `${GANTRY_MOVE}landed`, ref, sha, expected], { cwd: this.path, okCodes: [1, 128] });
      await recordKnown(this.path);
    });
  }

  /** Non-task refs someone other than Gantry moved since Gantry last set them. */
  async moved(): Promise<{ ref: string; known: string | null; now: string | null }[]> {
    if (!existsSync(knownFile(this.path))) return [];
    return withRepoLock(this.path, async () => {
      const known = JSON.parse(await readFile(knownFile(this.path), 'utf8')) as Record<string, string>;
      const now = await ownRefs(this.path);
      const out: { ref: string; known: string | null; now: string | null }[] = [];
      for (const ref of movedRefs(known, now)) {
        const m = { ref, known: known[ref] ?? null, now: now[ref] ?? null };
        const log = m.now ? await readFile(join(this.path, 'logs', ref), 'utf8').catch(() => '') : '';
        if (m.now && movedByGantry(log, m.known, m.now)) continue;
        out.push(m);
      }
      if (out.length === 0 && movedRefs(known, now).length) await recordKnown(this.path);
      return out;
    });
  }

  /** Puts moved refs back where Gantry left them. */
  async restore(refs: readonly { ref: string; known: string | null }[]): Promise<void> {
    await withRepoLock(this.path, async () => {
      for (const r of refs) {
        if (r.known) await git(['update-ref', '-m', `${GANTRY_MOVE}restore a ref moved outside a task`, r.ref, r.known], { cwd: this.path });
        else await git(['update-ref', '-d', r.ref], { cwd: this.path });
      }
    });
  }
}
