// `merge`: auto merges once checks are green and review passed; manual parks for a merge review.
// Safety (DESIGN §5 inv. 8): a fenced merge intent is recorded before the irreversible ref update,
// the SCM merges only at the expected head and base SHAs, and a change already in base is never
// merged again — so a stale factory cannot merge and a replay cannot merge twice.
import { isGantryError } from '../../domain/errors.js';
import { BUILTIN_KINDS } from '../../domain/pipeline/kinds.js';
import type { KindState } from '../../ports/engine.js';
import type { StepContext, StepKind, Transition } from '../step-kind.js';

const MAX_BASE_RACES = 20;

async function mergeOnce(ctx: StepContext, ks: KindState): Promise<KindState> {
  const fence = ctx.fence!;
  const ws = await ctx.workspace.prepare(ctx.task.id);
  await ctx.scm.pushBranch(ws.path, ws.branch);
  const change = await ctx.scm.openChange({ taskId: ctx.task.id, branch: ws.branch, base: ctx.project.defaultBranch, title: ctx.task.title, body: ctx.task.body });
  const intents = await ctx.merges.forTask(ctx.task.id);
  const merged = async (sha: string | null, already: boolean): Promise<KindState> => {
    await ctx.observeScm({ state: 'merged' });
    return { ...ks, phase: 'merged', mergedSha: sha, already, ...(change.url ? { prUrl: change.url } : {}) };
  };
  const done = intents.find((i) => i.state === 'merged');
  if (done) return merged(done.mergedSha, true);
  const state = await ctx.scm.changeState(change);
  if (state.state === 'merged') {
    // A previous holder merged, then died before recording it: record it now, never merge again —
    // once: each holder that died mid-merge left an open intent, and the push compare-and-set let at
    // most one of them land. The latest records the merge; the earlier ones were superseded.
    const open = intents.filter((x) => x.state === 'intent');
    for (const i of open.slice(0, -1)) await ctx.merges.markAborted(i.id, 'superseded: a later merge intent of this task recorded the merge');
    const last = open.at(-1);
    if (last) await ctx.merges.markMerged(last.id, state.mergedSha ?? state.headSha);
    return merged(state.mergedSha ?? state.headSha, true);
  }
  const m = await ctx.scm.mergeability(change);
  if (!m.clean) {
    await ctx.observeScm({ state: 'open', conflict: true, headSha: m.headSha, detail: m.detail.slice(-4000), handledBy: 'pipeline' });
    return { ...ks, phase: 'conflict', conflicts: m.conflicts };
  }
  const intent = await ctx.merges.record({ taskId: ctx.task.id, runId: ctx.run.id, baseBranch: change.base, expectedBaseSha: m.baseSha, headSha: m.headSha }, fence);
  try {
    const r = await ctx.scm.merge(change, { expectedHeadSha: m.headSha, expectedBaseSha: m.baseSha, message: `Merge ${change.branch}: ${ctx.task.title}` });
    await ctx.merges.markMerged(intent.id, r.mergedSha);
    return merged(r.mergedSha, r.alreadyMerged);
  } catch (e) {
    // A forge's branch protection refused (approvals, required checks): nothing merged, and retrying
    // cannot help until a person acts — the step parks on a merge review instead of failing in a loop.
    if (isGantryError(e) && e.code === 'forbidden' && e.details?.refusedBy === 'forge') {
      await ctx.merges.markAborted(intent.id, e.message);
      return { ...ks, phase: 'refused', refusal: e.message, refusalHint: e.hint ?? null, answer: undefined };
    }
    if (!isGantryError(e) || e.code !== 'conflict') throw e;
    // Base moved between the test and the update (another task merged): nothing changed; try again.
    await ctx.merges.markAborted(intent.id, e.message);
    return { ...ks, phase: undefined, races: Number(ks.races ?? 0) + 1 };
  }
}

async function advance(ctx: StepContext): Promise<Transition> {
  const ks = ctx.step.kindState;
  const answer = ks.answer as { action: string } | undefined;
  // The pull request's address, where there is one, is part of the output: the board links it.
  if (ks.phase === 'merged') return { type: 'done', output: { mergedSha: ks.mergedSha, already: ks.already === true, ...(typeof ks.prUrl === 'string' ? { prUrl: ks.prUrl } : {}) }, kindState: ks };
  if (ks.phase === 'conflict') {
    const c = ctx.pipeline.steps.findIndex((s, i) => i < ctx.step.idx && s.kind === 'conflicts');
    if (c >= 0) return { type: 'rework', producerIdx: c, feedback: 'the base moved and the branch conflicts again', kindState: { ...ks, phase: undefined } };
    return { type: 'fail', failure: { kind: 'conflicts_exhausted', message: `the branch conflicts with ${ctx.project.defaultBranch}: ${(ks.conflicts as string[]).join(', ')}` }, kindState: ks };
  }
  if (ks.phase === 'refused' && answer?.action !== 'merge') {
    const question = `The forge refused to merge "${ctx.task.title}": ${String(ks.refusal)}${ks.refusalHint ? ` (${String(ks.refusalHint)})` : ''}. Try the merge again?`;
    return { type: 'park', waiting: { kind: 'merge_review', question, options: ['merge', 'hold'] }, kindState: ks };
  }
  if (Number(ks.races ?? 0) >= MAX_BASE_RACES) return { type: 'fail', failure: { kind: 'unknown', message: `base kept moving during ${MAX_BASE_RACES} merge attempts` }, kindState: ks };
  if ((ctx.def.policy ?? 'auto') === 'manual' && answer?.action !== 'merge') {
    return { type: 'park', waiting: { kind: 'merge_review', question: `Merge "${ctx.task.title}" into ${ctx.project.defaultBranch}?`, options: ['merge', 'hold'] }, kindState: ks };
  }
  const unfinished = ctx.steps.filter((s) => s.idx < ctx.step.idx && s.state !== 'done' && s.state !== 'skipped');
  if (unfinished.length > 0) return { type: 'fail', failure: { kind: 'unknown', message: `cannot merge: step ${unfinished[0]!.stepId} is ${unfinished[0]!.state}` }, kindState: ks };
  if (!ctx.fence) return { type: 'fail', failure: { kind: 'fenced', message: 'merge needs the task lease; this advance holds none' }, kindState: ks };
  return { type: 'work', work: () => mergeOnce(ctx, ks) };
}

export const mergeKind: StepKind = { spec: BUILTIN_KINDS.find((k) => k.kind === 'merge')!, advance };
