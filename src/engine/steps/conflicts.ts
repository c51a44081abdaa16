// `conflicts`: does the branch merge cleanly into the current base (`git merge-tree --write-tree`
// in the local adapter)? Conflict → a resolver agent gets the evidence, up to maxFixes; then fail.
import { BUILTIN_KINDS } from '../../domain/pipeline/kinds.js';
import { STEP_DEFAULTS } from '../../domain/pipeline/builtins.js';
import { fixLoop } from '../../domain/pipeline/fix-loop.js';
import type { StepContext, StepKind, Transition } from '../step-kind.js';
import { agentOf, driveDispatch, guardAfterAgent, taskBrief, modelOf, timeoutMs } from './common.js';

async function advance(ctx: StepContext): Promise<Transition> {
  const ks = ctx.step.kindState;
  const fixes = Number(ks.fixes ?? 0);
  const maxFixes = ctx.def.maxFixes ?? STEP_DEFAULTS.conflictsMaxFixes;
  const base = ctx.project.defaultBranch;
  if (ks.phase === 'resolving') {
    const spec = {
      key: `resolve-${fixes}`,
      agent: agentOf(ctx),
      role: ctx.def.role ?? 'resolver',
      attempt: fixes,
      prompt: `${taskBrief(ctx)}\n\n## Merge conflicts with ${base}\nYour branch no longer merges cleanly into ${base} (now at ${String(ks.baseSha)}). Merge ${base} into your branch, resolve the conflicts keeping both intents, and commit.\nConflicting files: ${(ks.conflicts as string[]).join(', ')}\n\n\`\`\`\n${String(ks.detail)}\n\`\`\``,
      timeoutMs: timeoutMs(ctx.def), ...modelOf(ctx.def),
    };
    return driveDispatch(ctx, ks, spec, async (o) => (await guardAfterAgent(ctx, ks, spec.role)) ?? { type: 'update', kindState: { ...ks, dispatch: undefined, phase: 'test', lastResolver: o.status } });
  }
  if (ks.phase !== 'tested') {
    return {
      type: 'work',
      work: async () => {
        const ws = await ctx.workspace.prepare(ctx.task.id);
        await ctx.scm.pushBranch(ws.path, ws.branch);
        const change = await ctx.scm.openChange({ taskId: ctx.task.id, branch: ws.branch, base, title: ctx.task.title, body: ctx.task.body });
        const m = await ctx.scm.mergeability(change);
        await ctx.observeScm({ state: 'open', conflict: !m.clean, headSha: m.headSha, ...(m.clean ? {} : { detail: m.detail.slice(-4000) }), handledBy: 'pipeline' });
        return { ...ks, phase: 'tested', clean: m.clean, conflicts: m.conflicts, baseSha: m.baseSha, headSha: m.headSha, detail: m.detail.slice(-4000) };
      },
    };
  }
  const decision = fixLoop(ks.clean === true, fixes, maxFixes);
  if (decision.type === 'pass') return { type: 'done', output: { baseSha: ks.baseSha, headSha: ks.headSha, fixes }, kindState: ks };
  if (decision.type === 'fix') return { type: 'update', kindState: { ...ks, phase: 'resolving', fixes: decision.attempt } };
  return {
    type: 'fail',
    failure: { kind: 'conflicts_exhausted', message: `still conflicting with ${base} after ${fixes} resolution(s): ${(ks.conflicts as string[]).join(', ')}` },
    kindState: ks,
    notification: { kind: 'conflicts_exhausted', priority: 'high', title: `"${ctx.task.title}" still conflicts with ${base}`, detail: { step: ctx.def.id, conflicts: ks.conflicts, evidence: ks.detail } },
  };
}

export const conflictsKind: StepKind = { spec: BUILTIN_KINDS.find((k) => k.kind === 'conflicts')!, advance };
