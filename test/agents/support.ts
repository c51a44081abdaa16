// Shared helpers for agent tests: temp git workspaces, launch specs, event collection.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AgentEvent, LaunchSpec, SessionHandle } from '../../src/ports/agent.js';
import { resolveBinary } from '../../src/agents/binary.js';

export interface Sandbox {
  root: string;
  workspace: string;
  home: string;
  logs: string;
  cleanup(): void;
}

export const git = (cwd: string, ...args: string[]): string => execFileSync('git', args, { cwd, encoding: 'utf8' }).trim();

export function sandbox(prefix: string): Sandbox {
  const root = mkdtempSync(join(tmpdir(), `gantry-${prefix}-`));
  const workspace = join(root, 'ws');
  execFileSync('git', ['init', '-q', '-b', 'main', workspace]);
  git(workspace, 'config', 'user.name', 'Gantry Test');
  git(workspace, 'config', 'user.email', 'test@gantry.invalid');
  writeFileSync(join(workspace, 'README.md'), '# test\n');
  git(workspace, 'add', '.');
  git(workspace, 'commit', '-q', '-m', 'init');
  const home = join(root, 'home');
  execFileSync('mkdir', ['-p', home]);
  return { root, workspace, home, logs: join(root, 'logs'), cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

let counter = 0;
export function spec(box: Sandbox, over: Partial<LaunchSpec> = {}): LaunchSpec {
  counter += 1;
  const sessionId = `s${counter}`;
  return {
    sessionId,
    launchGeneration: 1,
    workspace: box.workspace,
    prompt: 'Do the task.',
    roleInstructions: 'You are the implementer.',
    permissions: { mode: 'edits', allowedTools: [], skipPermissions: false },
    logFile: join(box.logs, `${sessionId}.log`),
    timeoutMs: 120_000,
    killGraceMs: 2000,
    ...over,
  };
}

export async function collect(handle: SessionHandle, onEvent?: (e: AgentEvent) => void): Promise<AgentEvent[]> {
  const out: AgentEvent[] = [];
  for await (const e of handle.events) {
    out.push(e);
    onEvent?.(e);
  }
  return out;
}

export const ofType = <T extends AgentEvent['type']>(events: AgentEvent[], type: T): Extract<AgentEvent, { type: T }>[] =>
  events.filter((e): e is Extract<AgentEvent, { type: T }> => e.type === type);

/**
 * Real-CLI tests run only where the CLI is installed; in CI (CI=true) a missing CLI is a failure.
 * Returns a skip reason (one line) or false.
 */
export function requireCli(name: string, pkg: string): string | false {
  if (resolveBinary(name, undefined)) return false;
  const how = `scripts/run-tests.mjs installs ${pkg} from scripts/agent-clis.json and puts it on PATH`;
  if (process.env.CI === 'true') throw new Error(`${name} CLI is required in CI: ${how}`);
  return `${name} CLI not on PATH (${how}); skipping real-CLI tests`;
}

/**
 * Re-record parser fixtures from real runs: GANTRY_RECORD_FIXTURES=1 node scripts/run-tests.mjs real
 * copies the JSON lines of a run's log into test/agents/fixtures/<name>.jsonl.
 */
export function recordFixture(name: string, logFile: string): void {
  if (!process.env.GANTRY_RECORD_FIXTURES) return;
  const lines = readFileSync(logFile, 'utf8').split('\n').filter((l) => l.startsWith('{'));
  writeFileSync(new URL(`./fixtures/${name}.jsonl`, import.meta.url), `${lines.join('\n')}\n`);
}
