// What a task waits for and the commands that move it on, for `gantry show`. Pure: the task and its
// current run in, one line of "waits for" and the commands out (each a full `gantry …` line).
import type { Task } from '../domain/task.js';

export interface RunFacts {
  state: string;
  currentStep: string | null;
  waiting: { kind: string; stepId: string; question: string; options: string[] } | null;
  failure: { kind: string; message: string; remedy: string } | null;
}

export interface NextStep {
  /** What the task is waiting for, in a few words (null: nothing, it is moving or done). */
  waitsFor: string | null;
  commands: string[];
}

const quote = (s: string): string => (/^[\w.,:/@+-]+$/.test(s) ? s : `"${s.replace(/(["\\$`])/g, '\\$1')}"`);

export function nextStep(task: Pick<Task, 'id' | 'stage' | 'blockedReason' | 'after'>, run: RunFacts | null): NextStep {
  const id = task.id;
  const w = run?.state === 'parked' ? run.waiting : null;
  if (w) {
    const at = `step ${w.stepId}`;
    switch (w.kind) {
      case 'approval':
        return { waitsFor: `your approval (${at})`, commands: [`gantry approve ${id}`, `gantry changes ${id} "what to change"`, `gantry reject ${id} "why"`] };
      case 'decision':
        return {
          waitsFor: `your decision (${at}): ${w.question}`,
          commands: [...(w.options.length ? w.options.map((o) => `gantry answer ${id} ${quote(o)}`) : [`gantry answer ${id} "your answer"`]), `gantry reject ${id} "why"`],
        };
      case 'needs_input':
        return { waitsFor: `your reply (${at}): ${w.question}`, commands: [`gantry answer ${id} "your reply"`, `gantry reject ${id} "why"`] };
      case 'review_cap':
        return { waitsFor: `a decision at the review cap (${at})`, commands: [`gantry review ${id} more-round`, `gantry review ${id} proceed`, `gantry review ${id} stop`] };
      case 'merge_review':
        return { waitsFor: `a merge review (${at})`, commands: [`gantry diff ${id}`, `gantry merge ${id}`, `gantry hold ${id}`, `gantry reject ${id} "why"`] };
    }
  }
  switch (task.stage) {
    case 'shipped':
      return { waitsFor: null, commands: [`gantry diff ${id}`] };
    case 'failed':
    case 'cancelled':
      return { waitsFor: null, commands: [`gantry logs ${id}`, `gantry retry ${id}`] };
    case 'dead_letter':
      return { waitsFor: null, commands: [`gantry logs ${id}`, `gantry requeue ${id}`] };
    case 'blocked':
      if (task.blockedReason === 'dependencies') return { waitsFor: `dependencies to ship: ${task.after.join(', ')}`, commands: task.after.map((a) => `gantry show ${a}`) };
      if (task.blockedReason === 'budget') return { waitsFor: 'budget (paused: a limit in gantry.yaml was reached)', commands: [`gantry retry ${id}`] };
      // Parked for a person but the run says otherwise: show the run, it is the source of truth.
      return { waitsFor: 'a person', commands: [`gantry logs ${id}`] };
    case 'queued':
      return { waitsFor: 'a free factory', commands: [`gantry wait ${id}`, `gantry logs ${id} -f`] };
    default:
      return { waitsFor: null, commands: [`gantry logs ${id} -f`, `gantry wait ${id}`] };
  }
}
