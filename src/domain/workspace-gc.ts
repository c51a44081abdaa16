// What to do with each workspace found on disk when a factory starts or collects garbage.
// Facts come from the state records, `git worktree list` and the tasks' stages.
export interface WorkspaceFacts {
  taskId: string;
  /** The state record's status; `none` when a directory or worktree exists without a record. */
  status: 'provisioning' | 'ready' | 'removing' | 'none';
  /** The worktree directory exists on disk. */
  dirExists: boolean;
  /** git lists it as a worktree of the project repository. */
  registered: boolean;
  /** The task's stage is terminal (shipped, failed, cancelled, dead_letter); null when the task is unknown. */
  taskTerminal: boolean | null;
  /** The task ended, but the project's `workspace.retain` still keeps its worktree. */
  retained?: boolean;
}

export type GcAction =
  /** Keep: a live workspace of a live task. */
  | 'keep'
  /** Undo a provisioning that a crash interrupted (nothing in it is work yet). */
  | 'clean_interrupted'
  /** Checkpoint, then remove: the task is over. */
  | 'teardown'
  /** Remove a leftover with no record (git registration or a stray directory). */
  | 'remove_orphan'
  /** The record says ready but the worktree vanished: drop the record and let git prune. */
  | 'forget';

export function decideGc(f: WorkspaceFacts): GcAction {
  if (f.status === 'provisioning') return 'clean_interrupted';
  // A teardown a crash interrupted resumes, checkpoint first, so nothing written since is lost.
  if (f.status === 'removing') return 'teardown';
  if (f.status === 'none') {
    // A real worktree without a record may hold work: save it before removing. A bare directory cannot.
    if (f.dirExists && f.registered) return 'teardown';
    return f.dirExists || f.registered ? 'remove_orphan' : 'keep';
  }
  if (!f.dirExists) return 'forget';
  return f.taskTerminal === false || f.retained === true ? 'keep' : 'teardown';
}
