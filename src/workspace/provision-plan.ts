// The provisioning plan (DESIGN §8) as steps for the generic runner: record → mirror (fetch the
// project remote into this factory's bare mirror) → resolve base →
// worktree on gantry/<task> (from base or the latest checkpoint) → files → dependency cache and setup
// → port → agent files → ready. Each step registers the undo of what it created.
import { existsSync } from 'node:fs';
import { copyFile, cp, lstat, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { GantryError } from '../domain/errors.js';
import { canonicalPath } from '../domain/guard.js';
import { pickPort } from '../domain/port-allocation.js';
import type { StepDef } from '../lib/step-runner.js';
import type { CheckpointRecord, ProvisionRequest } from '../ports/workspace.js';
import { cacheKey, restoreCache, saveCache } from './dep-cache.js';
import { git, gitOut } from './git.js';
import { captureGitMeta } from './git-meta.js';
import { gitDirsOf, refShaFs } from './git-paths.js';
import { withFileLock } from './file-lock.js';
import { runSetupCommand } from './setup-commands.js';
import { applyTree } from './snapshot.js';
import { allRecords, type Layout, saveRecord, writeAtomic, type WorkspaceRecord } from './state-record.js';
import { addWorktree, branchExists, removeWorktree, withRepoLock } from './worktree-ops.js';
import { Mirror } from './mirror.js';

export interface ProvisionState {
  req: ProvisionRequest;
  layout: Layout;
  record: WorkspaceRecord;
  /** The checkpoint to resume from (resolved before the plan runs). */
  resume: CheckpointRecord | null;
  /** Commit the worktree starts at. */
  start: string;
  /** Environment for setup commands (injected: the library never reads process.env itself). */
  env: Record<string, string>;
  /** Called to fetch checkpoint refs a checkpoint commit is missing locally (resume on another factory). */
  fetchCheckpoints: (taskId: string) => Promise<void>;
  /** The task's checkpoint rows (to fall back on when the latest never reached this host). */
  checkpoints: (taskId: string) => Promise<CheckpointRecord[]>;
  /** Skip fetching the mirror when this process fetched it this recently (landing always fetches). */
  mirrorMaxAgeMs: number;
  /**
   * The dependency-cache key, taken from the lockfiles *before* setup runs: setup may rewrite a
   * lockfile (npm install does), and the next workspace restores by the pre-setup key.
   */
  cacheKey?: string;
}

const HEAD_TRAILER = /^Gantry-Head: ([0-9a-f]{40})$/m;

/** The agent's HEAD recorded in a checkpoint commit (the branch resumes there). */
export async function checkpointHead(repo: string, sha: string): Promise<string> {
  const body = await gitOut(['log', '-1', '--format=%B', sha], { cwd: repo });
  return HEAD_TRAILER.exec(body)?.[1] ?? (await gitOut(['rev-parse', `${sha}^1`], { cwd: repo }));
}

async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host: '127.0.0.1', exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

const dirNames = (s: ProvisionState) => [s.record.projectName, s.record.taskId] as const;

export function provisionPlan(): StepDef<ProvisionState>[] {
  return [
    {
      name: 'record',
      fatal: true,
      run: async (ctx) => {
        const s = ctx.state;
        const dir = s.layout.stateDir(...dirNames(s));
        ctx.registerCleanup('remove state', () => rm(dir, { recursive: true, force: true }));
        await saveRecord(s.layout, s.record);
      },
    },
    {
      name: 'mirror',
      fatal: true,
      run: async ({ state: s }) => {
        const mirror = Mirror.of(s.layout.home, { dirName: s.record.projectName, remote: s.req.project.remote ?? s.req.project.path });
        const base = s.req.base ?? s.req.project.defaultBranch;
        await mirror.fetch([s.req.project.defaultBranch], { maxAgeMs: s.mirrorMaxAgeMs });
        // Another base branch, when the remote has one by that name (else resolve-base says what is wrong).
        if (base !== s.req.project.defaultBranch && /^[\w./-]+$/.test(base) && !/^[0-9a-f]{40}$/.test(base)) {
          await mirror.fetch([base], { maxAgeMs: s.mirrorMaxAgeMs }).catch(() => undefined);
        }
        s.record.repoPath = mirror.path;
        return { detail: { mirror: mirror.path } };
      },
    },
    {
      name: 'resolve-base',
      fatal: true,
      run: async ({ state: s }) => {
        const repo = s.record.repoPath;
        const has = async (sha: string) => (await git(['cat-file', '-e', `${sha}^{commit}`], { cwd: repo, okCodes: [1, 128] })).code === 0;
        let unreachable: number | null = null;
        if (s.resume && !(await has(s.resume.sha))) {
          await s.fetchCheckpoints(s.req.taskId);
          if (!(await has(s.resume.sha))) {
            // Its factory died between recording the checkpoint and pushing it: resume from the newest
            // one that reached the remote (else from the base) — losing that much work, not the task.
            unreachable = s.resume.seq;
            const all = await s.checkpoints(s.req.taskId);
            const older = all.filter((c) => c.seq < s.resume!.seq).sort((a, b) => b.seq - a.seq);
            s.resume = null;
            for (const c of older) {
              if (await has(c.sha)) {
                s.resume = c;
                break;
              }
            }
            // The run may be past the steps that did the lost work: the engine puts it back (acknowledgeLoss).
            const restoredSeq = s.resume?.seq ?? null;
            s.record.lostCheckpoints = { restoredSeq, seqs: all.filter((c) => c.seq > (restoredSeq ?? 0)).map((c) => c.seq) };
          }
        }
        const fellBack = unreachable === null ? {} : { unreachableCheckpoint: unreachable };
        if (s.resume) {
          s.start = await checkpointHead(repo, s.resume.sha);
          return { detail: { checkpoint: s.resume.seq, start: s.start, ...fellBack } };
        }
        const base = s.req.base ?? s.req.project.defaultBranch;
        // A local branch is read from git's files (the common case, no process spawned); anything else asks git.
        const branchSha = /^[\w./-]+$/.test(base) ? refShaFs(gitDirsOf(repo).common, `refs/heads/${base}`) : undefined;
        if (branchSha) s.start = branchSha;
        else {
          const r = await git(['rev-parse', '--verify', '-q', `${base}^{commit}`], { cwd: repo, okCodes: [1, 128] });
          if (r.code !== 0) {
            throw new GantryError('bad_request', `base ${base} does not name a commit in ${repo}`, { hint: 'pass an existing branch, tag or sha as the base' });
          }
          s.start = r.stdout.trim();
        }
        return { detail: { base, start: s.start, ...fellBack } };
      },
    },
    {
      name: 'worktree',
      fatal: true,
      run: async (ctx) => {
        const s = ctx.state;
        const repo = s.record.repoPath;
        const { path, branch } = s.record;
        if (existsSync(path)) throw new GantryError('conflict', `${path} already exists`, { hint: 'run `gantry gc` to clean leftovers, then retry' });
        return withRepoLock(repo, async () => {
          const exists = await branchExists(repo, branch);
          // Resuming moves the branch to the checkpoint's head; a fresh task reuses a branch it already has.
          const args = exists && !s.resume ? ['worktree', 'add', path, branch] : ['worktree', 'add', exists ? '-B' : '-b', branch, path, s.start];
          s.record.createdBranch = !exists;
          s.record.baseSha = s.start;
          await saveRecord(s.layout, s.record);
          ctx.registerCleanup('remove worktree', () => removeWorktree(repo, path, s.record.createdBranch ? { deleteBranch: branch } : {}));
          await mkdir(dirname(path), { recursive: true });
          const clearedLock = await addWorktree(repo, args, branch);
          // A reused branch starts where it is, not at the base.
          if (exists && !s.resume) s.record.baseSha = await gitOut(['rev-parse', 'HEAD'], { cwd: path });
          return clearedLock ? { detail: { clearedStaleLock: clearedLock } } : undefined;
        });
      },
    },
    {
      name: 'restore-checkpoint',
      fatal: true,
      run: async ({ state: s }) => {
        if (!s.resume) return { skipped: 'no checkpoint to resume' };
        const r = await applyTree(s.record.path, 'HEAD', s.resume.sha);
        s.record.resumedFromSeq = s.resume.seq;
        return { detail: { seq: s.resume.seq, written: r.written.length, deleted: r.deleted.length } };
      },
    },
    {
      name: 'files',
      fatal: true,
      run: async (ctx) => {
        const s = ctx.state;
        const placed: string[] = [];
        for (const f of s.req.config.files) {
          const rel = canonicalPath(f.path);
          if (!rel) throw new GantryError('validation', `workspace file ${f.path} is outside the repository`, { field: 'workspace.files' });
          if (!s.req.project.path) {
            // A project added from its remote has no checkout to copy local files from.
            if (f.optional) {
              ctx.warn(`optional file ${rel} skipped: project ${s.req.project.name} has no local checkout`);
              continue;
            }
            throw new GantryError('bad_request', `required file ${rel}: project ${s.req.project.name} has no local checkout to copy it from`, {
              hint: 'register the project from a clone with `gantry init`, or mark the file `optional: true` in workspace.files',
            });
          }
          const src = join(s.req.project.path, rel);
          const dst = join(s.record.path, rel);
          const st = await lstat(src).catch(() => undefined);
          if (!st) {
            if (f.optional) {
              ctx.warn(`optional file ${rel} is missing in ${s.req.project.path}`);
              continue;
            }
            throw new GantryError('bad_request', `required file ${rel} is missing in ${s.req.project.path}`, {
              hint: 'create it in the project checkout, or mark it `optional: true` in workspace.files',
            });
          }
          await mkdir(dirname(dst), { recursive: true });
          await rm(dst, { recursive: true, force: true });
          if (f.mode === 'link') await symlink(src, dst);
          else if (st.isDirectory()) await cp(src, dst, { recursive: true });
          else await copyFile(src, dst);
          placed.push(rel);
        }
        s.record.placed = placed;
        return placed.length ? { detail: { placed } } : { skipped: 'no files configured' };
      },
    },
    {
      name: 'cache-restore',
      fatal: false,
      setup: true,
      run: async ({ state: s }) => {
        const c = s.req.config.setup.cache;
        if (!c) return { skipped: 'no cache configured' };
        const key = await cacheKey(s.record.path, c.lockfiles, s.req.config.setup.commands);
        s.cacheKey = key;
        const hit = await restoreCache(s.layout.cacheDir(s.record.projectName, key), s.record.path, c.paths);
        return { detail: { key, hit } };
      },
    },
    {
      name: 'setup',
      fatal: true,
      setup: true,
      run: async ({ state: s }) => {
        const { commands, timeoutMs } = s.req.config.setup;
        if (commands.length === 0) return { skipped: 'no setup commands' };
        const env = { ...s.env, GANTRY_WORKSPACE: s.record.path, GANTRY_TASK_ID: s.record.taskId };
        const logFile = join(s.layout.stateDir(...dirNames(s)), 'setup.log');
        for (const command of commands) await runSetupCommand(command, { cwd: s.record.path, env, logFile, timeoutMs });
        return { detail: { commands: commands.length } };
      },
    },
    {
      name: 'cache-save',
      fatal: false,
      setup: true,
      run: async ({ state: s }) => {
        const c = s.req.config.setup.cache;
        if (!c) return { skipped: 'no cache configured' };
        const key = s.cacheKey ?? (await cacheKey(s.record.path, c.lockfiles, s.req.config.setup.commands));
        const saved = await saveCache(s.layout.cacheDir(s.record.projectName, key), s.record.path, c.paths);
        return saved ? { detail: { key } } : { skipped: 'already cached' };
      },
    },
    {
      name: 'port',
      fatal: true,
      run: async ({ state: s }) => {
        await mkdir(s.layout.stateRoot(), { recursive: true });
        await withFileLock(s.layout.portsLock(), async () => {
          const taken = new Set<number>();
          for (const r of await allRecords(s.layout)) if (r.port !== null && r.taskId !== s.record.taskId) taken.add(r.port);
          for (;;) {
            const port = pickPort(s.req.config.ports, taken);
            if (await portFree(port)) {
              s.record.port = port;
              break;
            }
            taken.add(port);
          }
          // Saved inside the lock, so the next allocation sees this port as taken.
          await saveRecord(s.layout, s.record);
        });
        return { detail: { port: s.record.port } };
      },
    },
    {
      name: 'agent-files',
      fatal: true,
      run: async ({ state: s }) => {
        const dir = s.layout.agentDir(...dirNames(s));
        await mkdir(dir, { recursive: true });
        const files = s.req.agentFiles ?? [];
        for (const f of files) {
          const rel = canonicalPath(f.path);
          if (!rel) throw new GantryError('validation', `agent file ${f.path} would land outside the agent directory`);
          await mkdir(dirname(join(dir, rel)), { recursive: true });
          await writeFile(join(dir, rel), f.content, { mode: f.mode ?? 0o644 });
        }
        return files.length ? { detail: { files: files.length } } : { skipped: 'no agent files' };
      },
    },
    {
      name: 'ready',
      fatal: true,
      run: async ({ state: s }) => {
        await writeAtomic(s.layout.gitMeta(...dirNames(s)), JSON.stringify(await captureGitMeta(s.record.path)));
        s.record.status = 'ready';
        await saveRecord(s.layout, s.record);
      },
    },
  ];
}
