// Performs the scripted agent's actions in the workspace, emitting normalized events. Runs inside
// the scripted agent's own child process (main.ts), never inside Gantry.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import type { AgentEvent, TokenUsage } from '../../ports/agent.js';
import { resolveConflictText, type ConflictStrategy } from './conflicts.js';
import type { Action } from './script.js';

export type Outcome = 'continue' | 'end_turn' | 'failed';

export interface ActionContext {
  workspace: string;
  emit(e: AgentEvent): void;
  /** Structured output for the result file (e.g. the review). */
  output: Record<string, unknown>;
  /** What the turn reports when it completes (set by a `usage` action). */
  usage?: { usage: TokenUsage; costUsd: number | null };
}

export class ScriptFailure extends Error {}

function inside(workspace: string, path: string): string {
  const abs = resolve(workspace, path);
  const rel = relative(workspace, abs);
  if (rel.startsWith('..') || rel === '') throw new ScriptFailure(`path ${path} is outside the workspace`);
  return abs;
}

const git = (cwd: string, ...args: string[]): string => execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

function conflicted(cwd: string): string[] {
  return git(cwd, 'diff', '--name-only', '--diff-filter=U').split('\n').filter(Boolean);
}

function resolveAll(ctx: ActionContext, strategy: ConflictStrategy): string[] {
  const files = conflicted(ctx.workspace);
  for (const f of files) {
    const abs = inside(ctx.workspace, f);
    const fixed = resolveConflictText(readFileSync(abs, 'utf8'), strategy);
    if (fixed === null) throw new ScriptFailure(`cannot resolve the conflict in ${f} by ${strategy}`);
    writeFileSync(abs, fixed);
    git(ctx.workspace, 'add', '--', f);
  }
  return files;
}

export function perform(a: Action, ctx: ActionContext): Outcome {
  const { workspace, emit } = ctx;
  if ('write' in a) {
    const abs = inside(workspace, a.write.path);
    mkdirSync(dirname(abs), { recursive: true });
    writeFileSync(abs, a.write.content);
    emit({ type: 'tool_use', name: 'write', summary: a.write.path });
  } else if ('patch' in a) {
    const abs = inside(workspace, a.patch.path);
    const text = readFileSync(abs, 'utf8');
    if (!text.includes(a.patch.find)) throw new ScriptFailure(`patch: ${a.patch.path} does not contain the text to replace`);
    writeFileSync(abs, text.replace(a.patch.find, a.patch.replace));
    emit({ type: 'tool_use', name: 'patch', summary: a.patch.path });
  } else if ('run' in a) {
    emit({ type: 'tool_use', name: 'shell', summary: a.run });
    // Command output goes to stderr (the session log): stdout is the event channel.
    const r = spawnSync('sh', ['-c', a.run], { cwd: workspace, stdio: ['ignore', 2, 2] });
    if (r.status !== 0 && !a.allowFailure) throw new ScriptFailure(`command failed (exit ${r.status ?? r.signal}): ${a.run}`);
  } else if ('commit' in a) {
    emit({ type: 'tool_use', name: 'commit', summary: a.commit });
    git(workspace, 'add', '-A');
    if (git(workspace, 'status', '--porcelain') === '') emit({ type: 'message', text: 'Nothing to commit.' });
    else git(workspace, 'commit', '-q', '-m', a.commit);
  } else if ('usage' in a) {
    const { costUsd, ...usage } = a.usage;
    ctx.usage = { usage, costUsd };
  } else if ('say' in a) {
    emit({ type: 'message', text: a.say });
  } else if ('ask' in a) {
    const block = JSON.stringify(a.ask);
    emit({ type: 'message', text: `${a.ask.question}\n\`\`\`gantry-question\n${block}\n\`\`\`` });
    emit(a.ask.options ? { type: 'needs_input', question: a.ask.question, options: a.ask.options } : { type: 'needs_input', question: a.ask.question });
    return 'end_turn';
  } else if ('needs_input' in a) {
    emit({ type: 'needs_input', question: a.needs_input });
    return 'end_turn';
  } else if ('fail' in a) {
    throw new ScriptFailure(a.fail);
  } else if ('review' in a) {
    ctx.output.review = a.review;
    const verdict = `Review score ${a.review.score}/10, ${a.review.findings.length} finding(s).`;
    emit({ type: 'message', text: `${a.review.summary ?? verdict}\n\`\`\`gantry-review\n${JSON.stringify(a.review)}\n\`\`\`` });
  } else if ('merge' in a) {
    emit({ type: 'tool_use', name: 'merge', summary: a.merge.ref });
    const r = spawnSync('git', ['merge', '--no-edit', a.merge.ref], { cwd: workspace, encoding: 'utf8' });
    if (r.status !== 0) {
      const files = resolveAll(ctx, a.merge.strategy);
      if (files.length === 0) throw new ScriptFailure(`git merge ${a.merge.ref} failed: ${(r.stderr || r.stdout).trim()}`);
      git(workspace, 'commit', '-q', '--no-edit');
      emit({ type: 'message', text: `Resolved conflicts in ${files.join(', ')} (${a.merge.strategy}).` });
    }
  } else if ('resolve_conflicts' in a) {
    const files = resolveAll(ctx, a.resolve_conflicts);
    emit({ type: 'tool_use', name: 'resolve_conflicts', summary: files.join(', ') });
  }
  // hang and exit are process-level; main.ts handles them.
  return 'continue';
}
