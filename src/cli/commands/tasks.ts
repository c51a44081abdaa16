// gantry add · ls · show
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { GantryError } from '../../domain/errors.js';
import { STAGES, type Task } from '../../domain/task.js';
import type { GantryEvent } from '../../domain/events.js';
import { summarize } from '../../domain/event-summary.js';
import { formatUsage, type Usage } from '../../domain/usage.js';
import { closest } from '../../config/suggest.js';
import type { Project } from '../../ports/store.js';
import { repoRoot } from '../../scm/git.js';
import type { ApiClient } from '../client.js';
import { action, client, examples, intArg, withCommon, type CommonFlags } from '../common.js';
import { ago, emit, table, truncate } from '../output.js';
import { nextStep, type RunFacts } from '../next-step.js';

const collect = (v: string, prev: string[] = []): string[] => [...prev, ...v.split(',').map((s) => s.trim()).filter(Boolean)];

/** --project, else the project whose repository holds the current directory; never a guess. */
async function pickProject(api: ApiClient, flag?: string): Promise<Project> {
  const { projects } = await api.get<{ projects: Project[] }>('/api/projects');
  const names = projects.map((p) => p.name).join(', ');
  if (flag) {
    const p = projects.find((x) => x.id === flag || x.name === flag);
    if (p) return p;
    const guess = closest(flag, projects.map((x) => x.name));
    throw new GantryError('validation', `--project: no project ${flag}${guess ? ` — did you mean ${guess}?` : ''}`, { field: 'project', hint: projects.length ? `registered projects: ${names}` : 'run `gantry init` in your repository' });
  }
  if (projects.length === 0) throw new GantryError('bad_request', 'no project registered', { hint: 'run `gantry init` in your repository first' });
  const root = await repoRoot(process.cwd());
  const here = root ? projects.find((p) => p.path && resolve(p.path) === resolve(root)) : undefined;
  if (here) return here;
  throw new GantryError(
    'bad_request',
    root ? `${root} is not a registered project` : `${process.cwd()} is not inside a project's repository`,
    { hint: root ? `run \`gantry init\` there, or pass --project (one of ${names})` : `cd into the repository, or pass --project (one of ${names})` },
  );
}

interface AddFlags extends CommonFlags {
  body?: string;
  bodyFile?: string;
  project?: string;
  pipeline?: string;
  agent?: string;
  priority?: number;
  after?: string[];
  cap?: string[];
  key?: string;
  lightweight?: boolean;
}

export function registerTaskCommands(program: Command): void {
  withCommon(program.command('add <title>'))
    .description('submit a task')
    .option('--body <text>', 'what to do, in detail')
    .option('--body-file <file>', 'read the body from a file (- for stdin)')
    .option('--project <p>', 'project id or name (default: the repository you are in)')
    .option('--pipeline <name>', 'pipeline (default: the project default)')
    .option('--agent <id>', 'agent for every agent step: claude-code, codex, gemini, opencode, aider, command, scripted')
    .option('--priority <n>', 'priority, -100..100 (higher runs first)', intArg('--priority', -100, 100))
    .option('--after <ids>', 'wait for these tasks to ship (repeatable, comma-separated)', collect)
    .option('--cap <capabilities>', 'required factory capabilities (repeatable, comma-separated)', collect)
    .option('--key <idempotencyKey>', 'idempotency key: the same key returns the same task')
    .option('--lightweight', 'provision without setup commands and their cache (default: the project\'s workspace.lightweight)')
    .addHelpText('after', examples(['gantry add "Fix the flaky login test"', 'gantry add "Add dark mode" --body-file spec.md --agent claude-code --after t-1a2b3c4d']))
    .action(
      action(async (title: string, f: AddFlags) => {
        if (f.body !== undefined && f.bodyFile) throw new GantryError('bad_request', 'pass --body or --body-file, not both');
        const body = f.bodyFile ? readFileSync(f.bodyFile === '-' ? 0 : f.bodyFile, 'utf8') : (f.body ?? '');
        const api = client(f);
        const project = await pickProject(api, f.project);
        const r = await api.post<{ task: Task; created: boolean }>('/api/tasks', {
          title,
          body,
          project: project.id,
          ...(f.pipeline ? { pipeline: f.pipeline } : {}),
          ...(f.agent ? { agent: f.agent } : {}),
          ...(f.priority !== undefined ? { priority: f.priority } : {}),
          ...(f.after ? { after: f.after } : {}),
          ...(f.cap ? { capabilities: f.cap } : {}),
          ...(f.key ? { idempotencyKey: f.key } : {}),
          ...(f.lightweight ? { lightweight: true } : {}),
        });
        emit(f, { ...r, project: { id: project.id, name: project.name } }, () =>
          [
            `${r.created ? 'submitted' : 'already submitted'} ${r.task.id} to ${project.name} (${r.task.stage}${r.task.blockedReason ? `: ${r.task.blockedReason}` : ''}) ${r.task.title}`,
            `  follow it: gantry logs ${r.task.id} -f`,
          ].join('\n'),
        );
      }),
    );

  withCommon(program.command('ls'))
    .description('list tasks, newest first')
    .option('--project <p>', 'only this project')
    .option('--stage <stages>', `only these stages (comma-separated: ${STAGES.join(', ')})`, stagesArg)
    .option('--limit <n>', 'how many', intArg('--limit', 1, 500), 50)
    .option('--cursor <c>', 'continue after a previous page (nextCursor)')
    .addHelpText('after', examples(['gantry ls', 'gantry ls --stage blocked,failed --json']))
    .action(
      action(async (f: CommonFlags & { project?: string; stage?: string[]; limit: number; cursor?: string }) => {
        const q = new URLSearchParams({ limit: String(f.limit) });
        if (f.project) q.set('project', f.project);
        if (f.stage) q.set('stage', f.stage.join(','));
        if (f.cursor) q.set('cursor', f.cursor);
        const page = await client(f).get<{ tasks: Task[]; nextCursor: string | null }>(`/api/tasks?${q}`);
        emit(f, page, () => {
          if (page.tasks.length === 0) return 'no tasks (submit one with `gantry add "title"`)';
          const rows = page.tasks.map((t) => [t.id, t.stage + (t.blockedReason ? `(${t.blockedReason})` : ''), String(t.priority), t.pipeline, ago(t.updatedAt), truncate(t.title, 60)]);
          return table(rows, ['ID', 'STAGE', 'PRI', 'PIPELINE', 'UPDATED', 'TITLE']) + (page.nextCursor ? `\nmore: gantry ls --cursor ${page.nextCursor}` : '');
        });
      }),
    );

  withCommon(program.command('show <id>'))
    .description('show a task: stage, lease, the run\'s steps, what it waits for, the next command, recent events')
    .option('--events <n>', 'how many recent events', intArg('--events', 0, 1000), 15)
    .addHelpText('after', examples(['gantry show t-1a2b3c4d', 'gantry show t-1a2b3c4d --events 50', 'gantry show t-1a2b3c4d --json']))
    .action(
      action(async (id: string, f: CommonFlags & { events: number }) => {
        const api = client(f);
        const path = `/api/tasks/${encodeURIComponent(id)}`;
        const { task } = await api.get<{ task: Task }>(path);
        const [{ events }, { current, usage }, { waiting }] = await Promise.all([
          api.get<{ events: GantryEvent[] }>(`${path}/events?limit=1000`),
          api.get<{ current: RunView | null; usage?: Usage }>(`${path}/runs`).catch(() => ({ current: null, usage: undefined })),
          task.stage === 'queued'
            ? api.get<{ waiting: { kind: string; message: string; missing: string[] } | null }>(`/api/fleet/jobs/${encodeURIComponent(id)}/waiting`).catch(() => ({ waiting: null }))
            : Promise.resolve({ waiting: null }),
        ]);
        const recent = f.events ? events.slice(-f.events) : [];
        const next = nextStep(task, current);
        emit(f, { task, run: current, usage: usage ?? null, next, waiting, events: recent }, () => {
          const lines = [
            `${task.id}  ${task.title}`,
            `  stage      ${task.stage}${task.blockedReason ? ` (${task.blockedReason})` : ''}${task.quarantined ? '  [quarantined]' : ''}`,
            `  pipeline   ${task.pipeline}${task.agent ? `  agent ${task.agent}` : ''}  priority ${task.priority}`,
            `  attempts   ${task.attempts}/${task.maxAttempts}`,
            `  lease      epoch ${task.leaseEpoch}${task.leaseFactoryId ? ` held by ${task.leaseFactoryId}${task.leaseExpiresAt ? ` until ${new Date(task.leaseExpiresAt).toISOString()}` : ''}` : ' (not held)'}`,
          ];
          if (task.after.length) lines.push(`  after      ${task.after.join(', ')}`);
          if (task.checkpoint) lines.push(`  checkpoint ${task.checkpoint.ref} ${task.checkpoint.sha.slice(0, 12)}`);
          if (task.failureKind) lines.push(`  failure    ${task.failureKind}: ${task.failureMessage ?? ''}`);
          if (current) {
            lines.push(`  run        #${current.number} ${current.state}${current.currentStep ? ` at ${current.currentStep}` : ''}`);
            lines.push('  steps');
            lines.push(...table(current.steps.map((st) => [`    ${st.id}`, st.kind, st.state, st.attempts > 1 ? `×${st.attempts}` : '', duration(st.startedAt, st.finishedAt), st.usage ? tokensOf(st.usage) : '', st.usage ? costOf(st.usage) : '', st.failure ? `${st.failure.kind}: ${truncate(st.failure.message, 60)}` : '']), ['    STEP', 'KIND', 'STATE', 'TRIES', 'TIME', 'TOKENS', 'COST', '']).split('\n'));
            if (current.usage?.turns) lines.push(`  run usage  ${formatUsage(current.usage)}`);
            if (current.failure) lines.push(`  remedy     ${current.failure.remedy}`);
          }
          if (usage?.turns) lines.push(`  task usage ${formatUsage(usage)}${usage.tokensCached ? ` (${usage.tokensCached} cached)` : ''}`);
          if (waiting) lines.push(`  waits for  ${waiting.message}`);
          else if (next.waitsFor) lines.push(`  waits for  ${next.waitsFor}`);
          if (next.commands.length) lines.push(`  next       ${next.commands.join('\n             ')}`);
          if (recent.length) {
            lines.push('  events');
            for (const e of recent) {
              const sum = summarize(e);
              lines.push(`    #${e.seq}  ${new Date(e.at).toISOString().slice(11, 19)}  ${e.type}${sum ? `  ${sum}` : ''}`);
            }
          }
          return lines.join('\n');
        });
      }),
    );
}

interface RunView extends RunFacts {
  number: number;
  usage?: Usage;
  steps: Array<{ id: string; kind: string; state: string; attempts: number; startedAt: number | null; finishedAt: number | null; failure: { kind: string; message: string } | null; usage?: Usage | null }>;
}

/** "1200 in / 340 out" for a step's table cell. */
const tokensOf = (u: Usage): string => `${u.tokensIn} in / ${u.tokensOut} out`;
/** "$0.0123", "≥ $0.0123" when part of it is unknown, "?" when none is known. */
const costOf = (u: Usage): string => (u.costUsd === null ? '?' : `${u.costKnown ? '' : '≥ '}$${u.costUsd.toFixed(4)}`);

function duration(from: number | null, to: number | null): string {
  if (!from) return '';
  const s = Math.max(0, Math.round(((to ?? Date.now()) - from) / 1000));
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

/** --stage a,b: every stage checked here, so a typo is named with the nearest stage. */
function stagesArg(v: string): string[] {
  const stages = v.split(',').map((x) => x.trim()).filter(Boolean);
  for (const st of stages) {
    if (!(STAGES as readonly string[]).includes(st)) {
      const guess = closest(st, STAGES);
      throw new InvalidArgumentError(`unknown stage "${st}"${guess ? ` — did you mean ${guess}?` : ''} (stages: ${STAGES.join(', ')})`);
    }
  }
  return stages;
}
