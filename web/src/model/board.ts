// Pure board rules: which column a task sits in, and what (if anything) it needs from a person.
// No DOM, no fetch — table-tested in test/web/board-model.test.ts.
import type { CardFacts, Notification, Stage, Task } from '../api/types.js';

export const COLUMNS = [
  { id: 'queued', title: 'Queued', stages: ['queued'] },
  { id: 'building', title: 'Building', stages: ['assigned', 'building'] },
  { id: 'review', title: 'Review', stages: ['review'] },
  { id: 'testing', title: 'Testing', stages: ['testing'] },
  { id: 'blocked', title: 'Blocked', stages: ['blocked'] },
  { id: 'shipped', title: 'Shipped', stages: ['shipped'] },
  { id: 'stopped', title: 'Failed · cancelled', stages: ['failed', 'cancelled', 'dead_letter'] },
] as const satisfies ReadonlyArray<{ id: string; title: string; stages: readonly Stage[] }>;

export type ColumnId = (typeof COLUMNS)[number]['id'];

export function columnOf(stage: Stage): ColumnId {
  for (const c of COLUMNS) if ((c.stages as readonly Stage[]).includes(stage)) return c.id;
  return 'queued';
}

export type NeedKind = 'question' | 'approval' | 'review_cap' | 'merge_review' | 'input' | 'failure' | 'quarantine' | 'budget' | 'attention';

export interface Need {
  kind: NeedKind;
  label: string;
  /** Lower sorts first: failures and questions before budget pauses. */
  rank: number;
  detail: string | null;
}

const LABEL: Record<NeedKind, [string, number]> = {
  question: ['Question', 0],
  input: ['Needs input', 0],
  approval: ['Approval', 1],
  review_cap: ['Review cap reached', 1],
  merge_review: ['Merge review', 1],
  failure: ['Failed', 2],
  quarantine: ['Quarantined result', 2],
  budget: ['Over budget', 3],
  attention: ['Needs attention', 4],
};

const need = (kind: NeedKind, detail: string | null = null): Need => ({ kind, label: LABEL[kind][0], rank: LABEL[kind][1], detail });

/** Park reasons as the engine names them (run parked on a person), mapped to what the board shows. */
export function parkKind(reason: string | null | undefined): NeedKind | null {
  // Notifications raised by a parked run are named `awaiting_<waiting kind>`.
  switch (reason?.replace(/^awaiting_/, '')) {
    case 'decision':
    case 'question':
      return 'question';
    case 'needs_input':
    case 'needs-input':
      return 'input';
    case 'approval':
      return 'approval';
    case 'review_cap':
      return 'review_cap';
    case 'merge_review':
      return 'merge_review';
    default:
      return null;
  }
}

export interface NeedFacts {
  task: Task;
  /** Why the run is parked, when the engine said so (latest park event of the task). */
  parkReason?: string | null;
  /** Open notifications about the task. */
  notifications?: readonly Notification[];
  /** The card's facts (cost, elapsed …), when the API sent them. */
  facts?: CardFacts | null;
}

/** What a person must do for this task, or null when nothing. */
export function needOf(f: NeedFacts): Need | null {
  const t = f.task;
  if (t.stage === 'failed' || t.stage === 'dead_letter') return need('failure', t.failureMessage ?? t.failureKind);
  if (t.quarantined) return need('quarantine', 'a fenced factory kept a result that was not shipped');
  if (t.stage === 'blocked' && t.blockedReason === 'awaiting_human') return need(parkKind(f.parkReason) ?? 'attention');
  if (t.stage === 'blocked' && t.blockedReason === 'budget') return need('budget');
  if (t.stage === 'cancelled' || t.stage === 'shipped') return null;
  const open = (f.notifications ?? []).filter((n) => n.state !== 'resolved');
  if (open.length) {
    const n = open[0]!;
    return need(parkKind(n.kind) ?? 'attention', n.title);
  }
  return null;
}

export interface BoardCard {
  task: Task;
  need: Need | null;
  facts: CardFacts | null;
}

export interface BoardView {
  needs: BoardCard[];
  columns: Record<ColumnId, BoardCard[]>;
}

export interface BoardFilter {
  project?: string | null;
  /** An agent id; '' or null = any. A task without its own agent runs its project's default. */
  agent?: string | null;
  text?: string;
  /** A column id: only tasks in that column (or in "Needs you" while in it). */
  stage?: ColumnId | null;
  sort?: SortKey;
}

/** `board`: the default (active work by priority then age; finished work most recent first). */
export const SORTS = [
  { id: 'board', label: 'Default order' },
  { id: 'age', label: 'Oldest first' },
  { id: 'priority', label: 'Priority' },
  { id: 'cost', label: 'Cost' },
  { id: 'elapsed', label: 'Elapsed' },
] as const;
export type SortKey = (typeof SORTS)[number]['id'];

/** How long the current run has been going (or went), or null before any run. */
export function elapsedOf(f: CardFacts | null | undefined, now: number): number | null {
  if (!f?.startedAt) return null;
  return Math.max(0, (f.finishedAt ?? now) - f.startedAt);
}

/** A comparator for one sort key (`board` is per column, see boardView). Ties fall back to the id so the order is stable. */
export function compareBy(sort: Exclude<SortKey, 'board'>, now: number): (a: BoardCard, b: BoardCard) => number {
  const tie = (a: BoardCard, b: BoardCard) => (a.task.id < b.task.id ? -1 : a.task.id > b.task.id ? 1 : 0);
  switch (sort) {
    case 'age':
      return (a, b) => a.task.createdAt - b.task.createdAt || tie(a, b);
    case 'priority':
      return (a, b) => b.task.priority - a.task.priority || a.task.queuedAt - b.task.queuedAt || tie(a, b);
    case 'cost':
      return (a, b) => (b.facts?.usage.costUsd ?? -1) - (a.facts?.usage.costUsd ?? -1) || tie(a, b);
    case 'elapsed':
      return (a, b) => (elapsedOf(b.facts, now) ?? -1) - (elapsedOf(a.facts, now) ?? -1) || tie(a, b);
  }
}

/** Groups tasks into the "Needs you" lane and the stage columns. A task in the lane is not repeated below. */
export function boardView(tasks: Iterable<Task>, facts: (t: Task) => Omit<NeedFacts, 'task'>, filter: BoardFilter = {}, now = Date.now()): BoardView {
  const columns = Object.fromEntries(COLUMNS.map((c) => [c.id, [] as BoardCard[]])) as Record<ColumnId, BoardCard[]>;
  const needs: BoardCard[] = [];
  const text = filter.text?.trim().toLowerCase() ?? '';
  for (const task of tasks) {
    if (filter.project && task.projectId !== filter.project) continue;
    if (filter.agent && task.agent !== filter.agent) continue;
    if (text && !task.title.toLowerCase().includes(text) && !task.id.toLowerCase().includes(text)) continue;
    if (filter.stage && columnOf(task.stage) !== filter.stage) continue;
    const f = facts(task);
    const card: BoardCard = { task, need: needOf({ task, ...f }), facts: f.facts ?? null };
    if (card.need) needs.push(card);
    else columns[columnOf(task.stage)].push(card);
  }
  if (filter.sort && filter.sort !== 'board') {
    const cmp = compareBy(filter.sort, now);
    needs.sort(cmp);
    for (const c of COLUMNS) columns[c.id].sort(cmp);
    return { needs, columns };
  }
  needs.sort((a, b) => a.need!.rank - b.need!.rank || a.task.updatedAt - b.task.updatedAt);
  for (const c of COLUMNS) {
    // Active work by priority then age; finished work most recent first.
    const finished = c.id === 'shipped' || c.id === 'stopped';
    columns[c.id].sort((a, b) => (finished ? b.task.updatedAt - a.task.updatedAt : b.task.priority - a.task.priority || a.task.queuedAt - b.task.queuedAt));
  }
  return { needs, columns };
}
