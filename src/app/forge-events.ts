// What a verified GitHub webhook delivery does beyond waking the polls (src/api/routes/forge-webhooks.ts):
// - a pull request, review, check or status event about a task's branch (`gantry/<task>`) → one look at
//   that task's pull request and its hosted CI through the project's forge adapter → the change axis of
//   the session that owns the change (decided by `pullObservation`, the same decider the engine's polls
//   use, so a webhook and a poll of the same head count once);
// - an `issues` event opened/labeled/reopened with the intake label → that issue, as the API says it is
//   now (open, labelled, its text), is taken in at once, idempotent with the poll (the same key);
//   unlabeled, closed and the rest change nothing.
// The delivery's payload only says WHERE to look: state is read from the API, so a late or reordered
// delivery never records a stale state.
import { changeOwner } from '../domain/pipeline/change-owner.js';
import { deliveryBranches, pipelineAhead, pullObservation, taskOfBranch } from '../domain/forge/pr-state.js';
import { issueEvent, issueFromPayload } from '../domain/forge/intake.js';
import { repoFromRemote } from '../domain/forge/verdicts.js';
import { launchSessionId } from '../engine/agent-runner.js';
import type { ChangeObserver, RunRepo, Scm } from '../ports/engine.js';
import type { Project, Store } from '../ports/store.js';
import { isForge } from '../scm/github.js';
import { scmFor } from '../scm/registry.js';
import { isIntakeForge, takeIssue } from './issue-intake.js';

export interface ForgeEventDeps {
  store: Store;
  runs: Pick<RunRepo, 'current'>;
  /** The coordinator's home (the adapter's mirror directory; no git runs for a look). */
  home: string;
  /** The lifecycle's change axis; without it (no lifecycle) nothing is observed. */
  changes?: ChangeObserver;
  scm?: (p: Project) => Scm;
  warn?(msg: string, fields?: Record<string, unknown>): void;
}

export interface ForgeEvents {
  /** A change event: the tasks whose pull request was looked at and observed. */
  change(event: string, payload: unknown): Promise<{ observed: string[] }>;
  /** An `issues` event: the task an issue became, or why nothing happened. */
  issue(payload: unknown): Promise<{ taken: { issue: number; taskId: string; created: boolean }[]; ignored?: string }>;
}

type Scoped = { repo?: unknown; intake?: { label?: unknown } };
const githubOf = (p: Project): Scoped | null => {
  const s = p.config.scm as { adapter?: unknown; github?: Scoped } | undefined;
  return s?.adapter === 'github' ? (s.github ?? {}) : null;
};
const repoOf = (p: Project): string | null => {
  const g = githubOf(p);
  if (!g) return null;
  return typeof g.repo === 'string' ? g.repo : repoFromRemote(p.remote);
};
const FINISHED = new Set(['done', 'failed', 'cancelled']);

export function forgeEvents(d: ForgeEventDeps): ForgeEvents {
  const scmOf = d.scm ?? ((p: Project) => scmFor({ home: d.home, project: p }));
  const warn = (msg: string, f: Record<string, unknown>): void => d.warn?.(msg, f);

  async function observeTask(taskId: string, branch: string, repo: string | null): Promise<boolean> {
    const task = await d.store.tasks.get(taskId);
    if (!task) return false;
    const project = await d.store.projects.get(task.projectId);
    if (!project || (repo !== null && repoOf(project)?.toLowerCase() !== repo.toLowerCase())) return false;
    const snap = await d.runs.current(taskId);
    if (!snap || !d.changes) return false;
    // The same owner the engine's own look at this step names (the last agent step up to the current one).
    const owner = changeOwner(snap.steps.map((s) => ({ idx: s.idx, kind: s.kind, sessionId: s.sessionId })), Math.min(snap.run.currentStep, snap.steps.length - 1));
    if (!owner) return false;
    const scm = scmOf(project);
    if (!isForge(scm)) return false;
    const change = await scm.changeOf(taskId, branch, project.defaultBranch);
    if (!change) return false;
    const pull = await scm.pullFacts(change);
    const ci = pull.state === 'open' && pull.headSha ? await scm.hostedChecks(change, pull.headSha) : null;
    const ahead = pipelineAhead(snap.steps.map((s) => s.kind), snap.run.currentStep, FINISHED.has(snap.run.state));
    await d.changes.observe({ taskId, runId: snap.run.id, sessionId: launchSessionId(owner), observation: pullObservation(pull, ci, ahead) });
    return true;
  }

  return {
    async change(event, payload) {
      const { repo, branches } = deliveryBranches(event, payload);
      const observed: string[] = [];
      for (const b of branches) {
        const taskId = taskOfBranch(b);
        if (!taskId) continue;
        try {
          if (await observeTask(taskId, b, repo)) observed.push(taskId);
        } catch (e) {
          warn('forge webhook: looking at the pull request failed', { taskId, event, err: e instanceof Error ? e.message : String(e) });
        }
      }
      return { observed };
    },
    async issue(payload) {
      const p = (typeof payload === 'object' && payload !== null ? payload : {}) as { action?: unknown; issue?: unknown; repository?: { full_name?: unknown } };
      const repo = typeof p.repository?.full_name === 'string' ? p.repository.full_name : null;
      const issue = issueFromPayload(p.issue);
      const taken: { issue: number; taskId: string; created: boolean }[] = [];
      let ignored: string | undefined;
      if (!repo) return { taken, ignored: 'no repository in the delivery' };
      for (const project of await d.store.projects.list()) {
        const label = githubOf(project)?.intake?.label;
        if (typeof label !== 'string' || repoOf(project)?.toLowerCase() !== repo.toLowerCase()) continue;
        const a = issueEvent(typeof p.action === 'string' ? p.action : null, issue, label);
        if (a.type === 'ignore') {
          ignored = a.reason;
          continue;
        }
        // The payload only says which issue: what it is now (open, labelled, its text) is read from the API,
        // so neither a stale redelivery nor a forged payload decides what a task says.
        const scm = scmOf(project);
        const fresh = isIntakeForge(scm) ? (await scm.labelledIssues(label)).find((i) => i.number === a.issue.number && !i.isPull) : undefined;
        if (!fresh) {
          ignored = `issue #${a.issue.number} is not open with the label ${label} now: nothing taken in`;
          continue;
        }
        const r = await takeIssue(d.store, project, repoOf(project)!, fresh);
        taken.push({ issue: fresh.number, ...r });
      }
      return { taken, ...(taken.length === 0 ? { ignored: ignored ?? `no project takes issues in from ${repo}` } : {}) };
    },
  };
}
