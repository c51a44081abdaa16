// `checks`: runs the project's checks in the workspace. Red → a fixer agent gets the failing output
// (log tails), then the checks run again, up to maxFixes; then the run fails with the evidence.
import { BUILTIN_KINDS } from '../../domain/pipeline/kinds.js';
import { STEP_DEFAULTS } from '../../domain/pipeline/builtins.js';
import { fixLoop } from '../../domain/pipeline/fix-loop.js';
import type { CheckResult, CheckSpec } from '../../ports/engine.js';
import type { StepContext, StepKind, Transition } from '../step-kind.js';
import { agentOf, driveDispatch, guardAfterAgent, pullObserver, taskBrief, modelOf, timeoutMs } from './common.js';

const summary = (rs: readonly CheckResult[], specs: readonly CheckSpec[] = []): Record<string, unknown>[] =>
  rs.map((r) => ({ name: r.name, command: specs.find((c) => c.name === r.name)?.run ?? (specs.find((c) => c.name === r.name)?.hosted ? 'hosted' : null), ok: r.ok, exitCode: r.exitCode, timedOut: r.timedOut, durationMs: r.durationMs, logFile: r.logFile, tail: r.tail }));

/** Every round of checks this step ran, oldest first (a red round a fixer repaired stays on record). */
const roundsOf = (ks: Record<string, unknown>): Record<string, unknown>[] => (Array.isArray(ks.rounds) ? (ks.rounds as Record<string, unknown>[]) : []);

async function advance(ctx: StepContext): Promise<Transition> {
  const ks = ctx.step.kindState;
  const fixes = Number(ks.fixes ?? 0);
  const maxFixes = ctx.def.maxFixes ?? STEP_DEFAULTS.checksMaxFixes;
  if (ks.phase === 'fixing') {
    const spec = {
      key: `fix-${fixes}`,
      agent: agentOf(ctx),
      role: ctx.def.role ?? 'fixer',
      attempt: fixes,
      prompt: `${taskBrief(ctx)}\n\n## Failing checks\n${(ks.results as Record<string, unknown>[]).filter((r) => !r.ok).map((r) => `### ${String(r.name)} (exit ${String(r.exitCode)}${r.timedOut ? ', timed out' : ''})\n\`\`\`\n${String(r.tail)}\n\`\`\``).join('\n\n')}\n\nMake these checks pass, then commit.`,
      timeoutMs: timeoutMs(ctx.def), ...modelOf(ctx.def),
    };
    // Whatever the fixer did (even failing), the guard judges its changes, then the checks decide: run them again.
    return driveDispatch(ctx, ks, spec, async (o) => (await guardAfterAgent(ctx, ks, spec.role)) ?? { type: 'update', kindState: { ...ks, dispatch: undefined, phase: 'check', lastFixer: o.status } });
  }
  if (ks.phase !== 'checked') {
    return {
      type: 'work',
      work: async () => {
        const ws = await ctx.workspace.prepare(ctx.task.id);
        const target = { scm: ctx.scm, taskId: ctx.task.id, branch: ws.branch, base: ctx.project.defaultBranch, title: ctx.task.title, body: ctx.task.body, onPull: pullObserver(ctx) };
        const results = await ctx.checks.run(ws.path, ctx.checkSpecs, { logDir: `${ctx.logDir}/round-${fixes}`, signal: ctx.signal, target });
        const ok = results.every((r) => r.ok);
        const failing = results.filter((r) => !r.ok).map((r) => `${r.name} (exit ${String(r.exitCode)}${r.timedOut ? ', timed out' : ''}):\n${r.tail}`);
        // Hosted CI names the head it ran on: the same occurrence as the poll's and a webhook's look (fires once).
        const heads = [...new Set(results.map((r) => r.headSha ?? null))];
        const headSha = heads.length === 1 && heads[0] ? { headSha: heads[0] } : {};
        await ctx.observeScm({ state: 'open', checks: ok ? 'passing' : 'failing', ...headSha, ...(ok ? {} : { detail: tail(failing.join('\n\n')) }), handledBy: 'pipeline' });
        const done = summary(results, ctx.checkSpecs);
        return { ...ks, phase: 'checked', results: done, ok, rounds: [...roundsOf(ks), { round: fixes, ok, fixer: ks.lastFixer ?? null, results: done }] };
      },
    };
  }
  const decision = fixLoop(ks.ok === true, fixes, maxFixes);
  if (decision.type === 'pass') return { type: 'done', output: { checks: ks.results, fixes, rounds: roundsOf(ks) }, kindState: ks };
  if (decision.type === 'fix') return { type: 'update', kindState: { ...ks, phase: 'fixing', fixes: decision.attempt } };
  const failing = (ks.results as Record<string, unknown>[]).filter((r) => !r.ok);
  return {
    type: 'fail',
    failure: { kind: 'checks_exhausted', message: `checks still failing after ${fixes} fix(es): ${failing.map((r) => String(r.name)).join(', ')}` },
    kindState: ks,
    notification: { kind: 'checks_exhausted', priority: 'high', title: `Checks still red on "${ctx.task.title}" after ${fixes} fix(es)`, detail: { step: ctx.def.id, failing } },
  };
}

export const checksKind: StepKind = { spec: BUILTIN_KINDS.find((k) => k.kind === 'checks')!, advance };

/** The last 4000 characters of the failures (an observation's detail stays small; its start is never half an emoji). */
const tail = (s: string): string => {
  const t = s.slice(-4000);
  return /^[\uDC00-\uDFFF]/.test(t) ? t.slice(1) : t;
};
