// Where a factory keeps its workspaces, and the small durable record of each one. Records live
// outside the worktree (so they are never checkpointed) and are replaced atomically (write aside,
// rename), so a SIGKILL leaves either the old record or the new one.
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GantryError } from '../domain/errors.js';

export type WorkspaceStatus = 'provisioning' | 'ready' | 'removing';

export interface WorkspaceRecord {
  taskId: string;
  projectId: string;
  projectName: string;
  repoPath: string;
  path: string;
  branch: string;
  baseSha: string;
  port: number | null;
  status: WorkspaceStatus;
  /** Random per provisioning: a copy of an earlier record at the same path is told from the current one. */
  provisionId?: string;
  /** Provisioning created the branch (so undoing it deletes the branch too). */
  createdBranch: boolean;
  /** Paths provisioning linked or copied: excluded from checkpoints, exempt from the guard. */
  placed: string[];
  resumedFromSeq: number | null;
  /**
   * The newest recorded checkpoint this worktree is in step with: the latest one when it was provisioned
   * (restored or found lost), then each one made here. A newer recorded one means another factory moved
   * the task on, so this worktree is stale. Absent in records of older versions (not checked).
   */
  syncedSeq?: number | null;
  /** The commit of the newest checkpoint made here, saved before its ref and row exist. */
  ownSha?: string;
  /**
   * Recorded checkpoints provisioning could not restore (their factory died before pushing them), until
   * the engine has put the run back where the restored state is (`acknowledgeLoss`).
   */
  lostCheckpoints?: LostCheckpoints;
}

/** The checkpoint a worktree was restored from (null: the base) and the newer recorded ones it lacks. */
export interface LostCheckpoints {
  restoredSeq: number | null;
  seqs: number[];
}

const SAFE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export function safeName(what: string, v: string): string {
  if (!SAFE.test(v)) {
    throw new GantryError('validation', `${what} ${JSON.stringify(v)} cannot name a directory`, {
      hint: `use letters, digits, '.', '_' and '-' only (max 128)`,
    });
  }
  return v;
}

export class Layout {
  constructor(readonly home: string) {}
  worktree(project: string, task: string): string {
    return join(this.home, 'workspaces', safeName('project', project), safeName('task', task));
  }
  stateRoot(): string {
    return join(this.home, 'workspace-state');
  }
  stateDir(project: string, task: string): string {
    return join(this.stateRoot(), safeName('project', project), safeName('task', task));
  }
  record(project: string, task: string): string {
    return join(this.stateDir(project, task), 'workspace.json');
  }
  privateIndex(project: string, task: string): string {
    return join(this.stateDir(project, task), 'checkpoint.index');
  }
  agentDir(project: string, task: string): string {
    return join(this.stateDir(project, task), 'agent');
  }
  gitMeta(project: string, task: string): string {
    return join(this.stateDir(project, task), 'gitmeta.json');
  }
  cacheDir(project: string, key: string): string {
    return join(this.home, 'cache', safeName('project', project), key);
  }
  portsLock(): string {
    return join(this.stateRoot(), 'ports.lock');
  }
}

/**
 * Replace a file atomically (write aside, rename). Not fsynced: a SIGKILL never loses the page cache, and
 * after a power loss a missing record is handled like any orphan (gc checkpoints the worktree before
 * removing it), so the state stays recoverable without paying an fsync on every provisioning step.
 */
export async function writeAtomic(file: string, data: string): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, data);
  await rename(tmp, file);
}

export async function saveRecord(layout: Layout, r: WorkspaceRecord): Promise<void> {
  await mkdir(layout.stateDir(r.projectName, r.taskId), { recursive: true });
  await writeAtomic(layout.record(r.projectName, r.taskId), JSON.stringify(r, null, 2));
}

export async function loadRecord(layout: Layout, project: string, task: string): Promise<WorkspaceRecord | undefined> {
  try {
    return JSON.parse(await readFile(layout.record(project, task), 'utf8')) as WorkspaceRecord;
  } catch {
    return undefined;
  }
}

/** Every record on this host (all projects), for lookup by task and for port allocation. */
export async function allRecords(layout: Layout): Promise<WorkspaceRecord[]> {
  const out: WorkspaceRecord[] = [];
  const projects = await readdir(layout.stateRoot(), { withFileTypes: true }).catch(() => []);
  for (const p of projects) {
    if (!p.isDirectory()) continue;
    for (const t of await readdir(join(layout.stateRoot(), p.name), { withFileTypes: true }).catch(() => [])) {
      if (!t.isDirectory()) continue;
      const r = await loadRecord(layout, p.name, t.name);
      if (r) out.push(r);
    }
  }
  return out;
}
