// What a submit through the API checks beyond its body, so `gantry add` fails at once with a
// remedy instead of a task that fails later: the project's gantry.yaml is re-read (edits apply on
// the next submit; a broken file refuses the submit), and, where this coordinator runs the
// pipeline in-process, every agent the task would run must be able to run on this machine.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { GantryError, isGantryError } from '../domain/errors.js';
import { CONFIG_FILE, type ProjectConfig } from '../config/project-config.js';
import { resolvePipelines } from '../config/pipeline.js';
import type { PipelineDef } from '../domain/pipeline/types.js';
import type { Project, Store } from '../ports/store.js';
import type { AgentDetection } from '../ports/agent.js';
import { getAgent } from '../agents/registry.js';
import { loadScript } from '../agents/scripted.js';
import { selectActions } from '../agents/scripted/script.js';
import { readProjectConfig } from './projects.js';

export interface SubmitGuards {
  /** The project as the task should see it (its gantry.yaml re-read). */
  refresh?(project: Project): Promise<Project>;
  /** Throws when the task could not run here, saying what to install or pass. */
  canRun?(task: { agent?: string | undefined; pipeline: string }, config: ProjectConfig): Promise<void>;
}

/**
 * The project's gantry.yaml, when the repository has one, is the truth: a changed file replaces the
 * stored config; a broken one refuses the submit with every error. Without the file (a project
 * registered through the API with its config) the stored config stands.
 */
export async function refreshProjectConfig(store: Store, project: Project): Promise<Project> {
  // A project added from its remote (no checkout, path '') keeps the config read at `project add` / reload.
  if (!project.path || !existsSync(join(project.path, CONFIG_FILE))) return project;
  const config = (await readProjectConfig(project.path)) as unknown as Record<string, unknown>;
  if (isDeepStrictEqual(config, project.config)) return project;
  try {
    return await store.projects.updateConfig(project.id, config, project.rev);
  } catch (e) {
    // A concurrent submit stored it first: what it stored is the same file.
    if (isGantryError(e) && e.code === 'conflict') return (await store.projects.get(project.id)) ?? project;
    throw e;
  }
}

/** Roles each agent-driven step kind plays when the step names none (see src/engine/steps). */
const AGENT_KINDS: Readonly<Record<string, { role: string; always: boolean }>> = {
  agent: { role: 'implementer', always: true },
  review: { role: 'reviewer', always: true },
  checks: { role: 'fixer', always: false },
  conflicts: { role: 'resolver', always: false },
};

export interface AgentUse {
  agent: string;
  role: string;
  step: string;
  /** Runs on every task (false: only when checks go red or the branch conflicts). */
  always: boolean;
}

/** Which agent plays which role in each step: the task's agent, else the step's, else the project default. Pure. */
export function agentUses(pipeline: PipelineDef, taskAgent: string | undefined, defaultAgent: string): AgentUse[] {
  return pipeline.steps.flatMap((s) => {
    const k = AGENT_KINDS[s.kind];
    if (!k || s.enabled === false) return [];
    return [{ agent: taskAgent ?? s.agent ?? defaultAgent, role: s.role ?? k.role, step: s.id, always: k.always }];
  });
}

/**
 * Detection runs the CLI (`--version`); a CLI that answered is taken at its word for a minute, so a
 * burst of submits spawns it once. A missing one is looked for again on the next submit.
 */
const READY_FOR_MS = 60_000;
const ready = new Map<string, number>();

async function detectCached(id: string, binary: string | undefined): Promise<AgentDetection> {
  const key = `${id}\0${binary ?? ''}\0${process.env.PATH ?? ''}`;
  const at = ready.get(key);
  if (at !== undefined && Date.now() - at < READY_FOR_MS) return { id, installed: true, version: null, path: null, ready: true, hint: null };
  const d = await getAgent(id).detect(binary ? { binary } : {});
  if (d.ready) ready.set(key, Date.now());
  else ready.delete(key);
  return d;
}

/** Throws a one-line error naming what to install or pass when an agent of the task cannot run on this host. */
export async function checkAgentsCanRun(task: { agent?: string | undefined; pipeline: string }, config: ProjectConfig): Promise<void> {
  const pipeline = resolvePipelines(config.pipelines).get(task.pipeline);
  if (!pipeline) return; // submitTask names the unknown pipeline
  const uses = agentUses(pipeline, task.agent, config.defaults.agent);
  const via = task.agent ? '--agent' : 'defaults.agent in gantry.yaml';
  for (const id of [...new Set(uses.map((u) => u.agent))]) {
    const binary = config.agents[id]?.binary;
    const d = await detectCached(id, typeof binary === 'string' ? binary : undefined);
    if (!d.ready) {
      throw new GantryError('validation', `agent ${id} (${via}) cannot run on this machine: ${d.installed ? `${d.path} does not answer` : 'not found on PATH'}`, {
        field: 'agent',
        hint: `${d.hint ?? 'install it'}; or set agents.${id}.binary in gantry.yaml, or pass --agent with an installed one (gantry doctor lists them)`,
      });
    }
  }
  // The scripted agent needs a script for every role it always plays (an inline one; a scriptFile
  // lives in the workspace and is read there).
  const scripted = uses.filter((u) => u.agent === 'scripted' && u.always);
  const options = config.agents.scripted;
  if (scripted.length === 0 || typeof options?.scriptFile === 'string') return;
  const doc = loadScript(options, '/');
  const missing = [...new Set(scripted.filter((u) => !selectActions(doc, u.role, 1, false)).map((u) => u.role))];
  if (missing.length) {
    throw new GantryError('validation', `agent scripted (${via}) has no script for role ${missing.join(', ')}`, {
      field: 'agent',
      hint: `add agents.scripted.roles.${missing[0]} (or a default script) to gantry.yaml, or pass --agent with an installed agent CLI (gantry doctor lists them)`,
    });
  }
}
