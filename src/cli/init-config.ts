// What `gantry init` writes: the default agent chosen from the agent CLIs found on this machine,
// and a gantry.yaml that works as written. Pure: detections in, a choice and YAML text out.
import { DEFAULT_CONFIG_YAML } from '../config/project-config.js';

/** Real agents in the order init prefers them as the project default. */
export const AGENT_PREFERENCE = ['claude-code', 'codex', 'gemini', 'opencode', 'aider'] as const;

export interface AgentFound {
  id: string;
  ready: boolean;
  version?: string | null;
}

export interface InitChoice {
  agent: string;
  /** Every ready real agent, in preference order. */
  found: string[];
}

export function chooseAgent(detections: readonly AgentFound[]): InitChoice {
  const found = AGENT_PREFERENCE.filter((id) => detections.some((d) => d.id === id && d.ready));
  return { agent: found[0] ?? 'scripted', found };
}

/**
 * A scripted example that takes any task through the standard pipeline with no model: the plan
 * waits for your approval, the implementer adds one small file, the reviewer passes it, and it
 * merges. Replace it (or the default agent) when a real agent CLI is installed.
 */
const SCRIPTED_EXAMPLE = `  scripted:
    # The built-in scripted agent runs this script instead of a model (no agent CLI was found).
    # Approve the plan and the task ships a small GANTRY_EXAMPLE.md; reject it and nothing changes.
    roles:
      planner:
        - say: "Plan (scripted example, no model): add GANTRY_EXAMPLE.md. Approve to watch the pipeline ship it; reject to stop."
      implementer:
        - write: { path: GANTRY_EXAMPLE.md, content: "Shipped by Gantry's scripted example agent. Delete me.\\n" }
        - commit: "docs: Gantry's scripted example"
        - say: "Added GANTRY_EXAMPLE.md."
      reviewer:
        - review: { score: 9, summary: "The example change is as planned." }
    default:
      - say: "Nothing to do."
`;

/** The gantry.yaml init writes for this choice. */
export function initConfigYaml(choice: InitChoice): string {
  const agentLine = `  agent: ${choice.agent}`.padEnd(26);
  const comment =
    choice.agent === 'scripted'
      ? '# no agent CLI found on PATH: the scripted example below; install one and set it here'
      : choice.found.length > 1
        ? `# found on PATH: ${choice.found.join(' · ')}`
        : '# claude-code · codex · gemini · opencode · aider · command · scripted';
  let text = DEFAULT_CONFIG_YAML.replace(/^ {2}agent: scripted +#.*$/m, `${agentLine}${comment}`);
  if (choice.agent === 'scripted') text = text.replace(/^agents: \{\}\n/m, `agents:\n${SCRIPTED_EXAMPLE}`);
  return text;
}
