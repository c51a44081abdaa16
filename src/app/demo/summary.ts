// The demo's closing summary: per task its steps (with rework and fixes), duration and merged commit.
import type { RunSnapshot } from '../../ports/engine.js';
import type { Task } from '../../domain/task.js';
import { remedyOf } from '../../domain/pipeline/failure.js';

export interface DemoTaskSummary {
  key: string;
  id: string | null;
  title: string;
  pipeline: string;
  stage: string;
  steps: Array<{ id: string; state: string; attempts: number; rounds?: number; fixes?: number }>;
  durationMs: number | null;
  mergedSha: string | null;
  failure: { kind: string; message: string | null; remedy: string } | null;
}

const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);

export function summarize(key: string, title: string, task: Task | undefined, snap: RunSnapshot | undefined): DemoTaskSummary {
  const steps = (snap?.steps ?? []).map((s) => {
    const rounds = num(s.output?.rounds);
    const fixes = num(s.output?.fixes);
    return { id: s.stepId, state: s.state, attempts: s.attempts, ...(rounds !== undefined ? { rounds } : {}), ...(fixes !== undefined ? { fixes } : {}) };
  });
  const merged = snap?.steps.find((s) => s.kind === 'merge')?.output?.mergedSha;
  const run = snap?.run;
  return {
    key, id: task?.id ?? null, title, pipeline: task?.pipeline ?? '', stage: task?.stage ?? 'not submitted', steps,
    durationMs: run?.startedAt != null && run.finishedAt != null ? run.finishedAt - run.startedAt : null,
    mergedSha: typeof merged === 'string' ? merged : null,
    failure: run?.failureKind ? { kind: run.failureKind, message: run.failureMessage, remedy: remedyOf(run.failureKind) } : null,
  };
}

const stepText = (s: DemoTaskSummary['steps'][number]): string =>
  s.state === 'skipped' ? `(${s.id})` : `${s.id}${s.rounds && s.rounds > 1 ? `×${s.rounds}` : ''}${s.fixes ? ` (${s.fixes} fix${s.fixes > 1 ? 'es' : ''})` : ''}`;

export function summaryTable(rows: readonly DemoTaskSummary[]): string {
  return rows
    .map((r) => {
      const head = `  ${r.stage === 'shipped' ? '✓' : '✗'} ${r.title.padEnd(32)} ${r.stage.padEnd(9)} ${r.durationMs !== null ? `${(r.durationMs / 1000).toFixed(1)}s`.padStart(6) : '     -'}  ${r.mergedSha ? r.mergedSha.slice(0, 10) : ''}`;
      const tail = `      ${r.steps.map(stepText).join(' → ')}`;
      const fail = r.failure ? `\n      ${r.failure.kind}: ${r.failure.message ?? ''} — ${r.failure.remedy}` : '';
      return `${head}\n${tail}${fail}`;
    })
    .join('\n');
}
