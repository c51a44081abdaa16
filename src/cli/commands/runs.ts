// gantry approve · changes · reject · answer · review · merge · hold · retry · restart --from · cancel
// Each is one POST /api/tasks/:id/run/:action; a run not waiting for it is refused with the reason.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { GantryError } from '../../domain/errors.js';
import type { Task } from '../../domain/task.js';
import { action, client, examples, withCommon, type CommonFlags } from '../common.js';
import { emit } from '../output.js';

interface RunView {
  state: string;
  currentStep: string | null;
  waiting: { kind: string; question: string; options: string[] } | null;
  failure: { kind: string; message: string; remedy: string } | null;
}

async function post(f: CommonFlags, id: string, act: string, body: Record<string, string> = {}): Promise<void> {
  const r = await client(f).post<{ run: RunView; task: Task }>(`/api/tasks/${encodeURIComponent(id)}/run/${act}`, body);
  emit(f, r, () => {
    const w = r.run.waiting ? ` — waiting: ${r.run.waiting.question} (${r.run.waiting.options.join(' · ')})` : '';
    const fail = r.run.failure ? ` — ${r.run.failure.kind}: ${r.run.failure.message}\n  remedy: ${r.run.failure.remedy}` : '';
    return `${id}: ${act} → run ${r.run.state}${r.run.currentStep ? ` at ${r.run.currentStep}` : ''}, task ${r.task.stage}${w}${fail}`;
  });
}

export function registerRunCommands(program: Command): void {
  withCommon(program.command('approve <task>'))
    .description('approve the output a run waits on (with --edit, the pipeline goes on with your version of it)')
    .option('--edit <file>', 'your edited proposal (- for stdin); later steps work from it')
    .addHelpText('after', examples(['gantry approve t-1a2b3c4d      # the plan of t-1a2b3c4d waits for you', 'gantry approve t-1a2b3c4d --edit plan.md   # go on with your version of the plan']))
    .action(
      action(async (id: string, f: CommonFlags & { edit?: string }) => {
        const text = f.edit === undefined ? undefined : readFileSync(f.edit === '-' ? 0 : f.edit, 'utf8');
        if (text !== undefined && !text.trim()) throw new GantryError('validation', `--edit ${f.edit} is empty`, { hint: 'give the edited proposal, or approve without --edit' });
        return post(f, id, 'approve', text === undefined ? {} : { text });
      }),
    );
  const simple: [string, string, string, string][] = [
    ['retry', 'retry', 'resume a failed, cancelled or budget-paused run from the step that stopped it', 'after fixing what `gantry show t-1a2b3c4d` reported'],
    ['merge', 'merge', 'merge a change waiting in merge review', 'after reading `gantry diff t-1a2b3c4d`'],
    ['hold', 'hold', 'keep a change in merge review (do not merge yet)', 'it stays in merge review until you merge or reject it'],
  ];
  for (const [name, act, desc, why] of simple) {
    withCommon(program.command(`${name} <task>`))
      .description(desc)
      .addHelpText('after', examples([`gantry ${name} t-1a2b3c4d      # ${why}`, `gantry ${name} t-1a2b3c4d --json`]))
      .action(action(async (id: string, f: CommonFlags) => post(f, id, act)));
  }
  withCommon(program.command('changes <task> <feedback>'))
    .description('request changes: the producer re-runs with your feedback')
    .addHelpText('after', examples(['gantry changes t-1a2b3c4d "add a test for the empty list"']))
    .action(action(async (id: string, text: string, f: CommonFlags) => post(f, id, 'changes', { text })));
  // `gantry reply <session>` (lifecycle) sends input to a running agent; a parked run is answered here.
  withCommon(program.command('answer <task> <text>'))
    .description("answer a parked run: an agent's decision (one of its options) or its needs-input question")
    .addHelpText('after', examples(['gantry answer t-1a2b3c4d "use v2"']))
    .action(
      action(async (id: string, text: string, f: CommonFlags) => {
        const { current } = await client(f).get<{ current: RunView | null }>(`/api/tasks/${encodeURIComponent(id)}/runs`);
        return post(f, id, current?.waiting?.kind === 'needs_input' ? 'reply' : 'answer', { text });
      }),
    );
  withCommon(program.command('review <task> <choice>'))
    .description('resolve a review cap: more-round · proceed · stop (stop and reset)')
    .addHelpText('after', examples(['gantry review t-1a2b3c4d more-round   # one more review round', 'gantry review t-1a2b3c4d proceed      # accept the work as it is', 'gantry review t-1a2b3c4d stop         # fail the run; the producer starts over on retry']))
    .action(action(async (id: string, choice: string, f: CommonFlags) => post(f, id, choice.replace('-', '_'))));
  withCommon(program.command('restart <task>'))
    .description('start a new run from a step, keeping the steps before it')
    .requiredOption('--from <step>', 'the step id to restart from')
    .addHelpText('after', examples(['gantry restart t-1a2b3c4d --from implement']))
    .action(action(async (id: string, f: CommonFlags & { from: string }) => post(f, id, 'restart', { from: f.from })));
  // reject and cancel: a pipeline answer when the run waits for a person (reject) or is live (cancel);
  // otherwise the fleet's operator action (reject = dead letter, cancel = stop and fence the holder).
  const fallback: [string, string, (run: RunView | null) => boolean][] = [
    ['reject', 'reject the work waiting at a gate (the run fails); for a task not waiting, give it up for good (dead letter)', (r) => r?.state === 'parked'],
    ['cancel', 'cancel the task: stop its sessions, checkpoint, release (fences the factory holding it)', (r) => r !== null && ['running', 'parked', 'paused'].includes(r.state)],
  ];
  for (const [name, what, pipelineOwns] of fallback) {
    withCommon(program.command(`${name} <task> [reason]`))
      .description(what)
      .option('--reason <text>', 'why (recorded in the event log)')
      .addHelpText('after', examples([`gantry ${name} t-1a2b3c4d "not needed any more"`, `gantry ${name} t-1a2b3c4d --reason "duplicate of t-9z8y7x6w" --json`]))
      .action(
        action(async (id: string, reason: string | undefined, f: CommonFlags & { reason?: string }) => {
          if (!/^[\w-]+$/.test(id)) throw new GantryError('validation', `not a task id: ${id}`, { hint: 'task ids look like t-1a2b3c4d; list them with `gantry ls`' });
          const text = f.reason ?? reason;
          const api = client(f);
          const { current } = await api.get<{ current: RunView | null }>(`/api/tasks/${encodeURIComponent(id)}/runs`);
          if (pipelineOwns(current)) return post(f, id, name, text ? { text } : {});
          const r = await api.post<{ job: Task }>(`/api/fleet/jobs/${encodeURIComponent(id)}/actions/${name}`, text ? { reason: text } : {});
          emit(f, { task: r.job }, () => `${r.job.id} → ${r.job.stage} (lease epoch ${r.job.leaseEpoch})`);
        }),
      );
  }
}
