// The built-in scripted agent: deterministic, no model. Its script (gantry.yaml
// `agents.scripted`, or a YAML/JSON file named by `scriptFile`) picks actions per role and attempt;
// it runs as a real child process speaking the command contract, so the engine treats it exactly
// like any other agent. It powers the demo and the engine's end-to-end tests.
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { GantryError } from '../domain/errors.js';
import type { AgentAdapter, LaunchSpec } from '../ports/agent.js';
import { runPlanned } from './cli-agent.js';
import { commandPlan, contractFiles, readResultFile } from './command.js';
import { commandParser } from './command-parser.js';
import { parseScript, selectActions, type ScriptDoc } from './scripted/script.js';

const mainUrl = new URL(`./scripted/main${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);

/** How to start the entry point: through tsx when running from source, plain node from dist. */
export function scriptedArgv(): string[] {
  const main = fileURLToPath(mainUrl);
  return main.endsWith('.ts') ? [process.execPath, '--import', import.meta.resolve('tsx'), main] : [process.execPath, main];
}

/** Run from source, the entry point is compiled by tsx into a cache under the temp dir: inside the sandbox's private /tmp it stays shared, or every launch recompiles. */
const tsxCache = (): string[] => (mainUrl.pathname.endsWith('.ts') && process.getuid ? [join(tmpdir(), `tsx-${process.getuid()}`)] : []);

export function loadScript(options: Record<string, unknown> | undefined, workspace: string): ScriptDoc {
  const file = options?.scriptFile;
  if (typeof file === 'string') {
    const path = isAbsolute(file) ? file : join(workspace, file);
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      throw new GantryError('validation', `scripted-agent script ${path} cannot be read`, { field: 'agents.scripted.scriptFile', hint: 'check the path (relative paths are resolved in the workspace)' });
    }
    return parseScript(parseYaml(text) as unknown, file);
  }
  const { scriptFile: _ignored, ...inline } = options ?? {};
  return parseScript(inline);
}

export const scripted: AgentAdapter = {
  id: 'scripted',
  displayName: 'Scripted agent (built-in, no model)',
  capabilities: {
    transport: 'jsonl',
    resume: true,
    approvals: 'none',
    interrupt: 'signal',
    usage: 'tokens+cost',
    activitySources: ['protocol', 'process'],
  },
  async detect() {
    return { id: 'scripted', installed: true, version: 'built-in', path: fileURLToPath(mainUrl), ready: true, hint: null };
  },
  launch(spec: LaunchSpec) {
    const doc = loadScript(spec.options, spec.workspace);
    const actions = selectActions(doc, spec.role, spec.attempt ?? 1, spec.resumeAgentSessionId !== undefined);
    if (!actions) {
      throw new GantryError('validation', `the scripted agent has no script for role ${spec.role ?? '(none)'}`, {
        field: `agents.scripted.roles.${spec.role ?? 'default'}`,
        hint: 'add the role under agents.scripted.roles, or a `default` script',
      });
    }
    const plan = commandPlan(spec, scriptedArgv());
    const actionsFile = join(contractFiles(spec).dir, 'actions.json');
    plan.files = [...(plan.files ?? []), { path: actionsFile, content: JSON.stringify(actions) }];
    plan.env.GANTRY_SCRIPTED_ACTIONS = actionsFile;
    return runPlanned(plan, spec, commandParser(readResultFile(spec)), [], { statePaths: tsxCache });
  },
};
