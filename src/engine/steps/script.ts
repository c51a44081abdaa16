// `script`: a deterministic command in the workspace; its exit code decides.
import { BUILTIN_KINDS } from '../../domain/pipeline/kinds.js';
import type { StepContext, StepKind, Transition } from '../step-kind.js';

async function advance(ctx: StepContext): Promise<Transition> {
  const ks = ctx.step.kindState;
  if (ks.result === undefined) {
    return {
      type: 'work',
      work: async () => {
        const ws = await ctx.workspace.prepare(ctx.task.id);
        const [r] = await ctx.checks.run(ws.path, [{ name: ctx.def.id, run: ctx.def.run ?? 'true', timeout: ctx.def.timeout ?? 600 }], { logDir: ctx.logDir, signal: ctx.signal });
        return { ...ks, result: { ok: r!.ok, exitCode: r!.exitCode, timedOut: r!.timedOut, tail: r!.tail, logFile: r!.logFile } };
      },
    };
  }
  const r = ks.result as { ok: boolean; exitCode: number | null; timedOut: boolean; tail: string };
  if (r.ok) return { type: 'done', output: { text: r.tail, exitCode: r.exitCode }, kindState: ks };
  return {
    type: 'fail',
    failure: r.timedOut ? { kind: 'timeout', message: `script ${ctx.def.id} timed out` } : { kind: 'checks_exhausted', message: `script ${ctx.def.id} exited ${String(r.exitCode)}` },
    kindState: ks,
    notification: { kind: 'script_failed', priority: 'high', title: `Script "${ctx.def.id}" failed on "${ctx.task.title}"`, detail: { tail: r.tail } },
  };
}

export const scriptKind: StepKind = { spec: BUILTIN_KINDS.find((k) => k.kind === 'script')!, advance };
