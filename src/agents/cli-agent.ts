// Builds an AgentAdapter from a small per-agent definition: how to find and version the binary,
// how to turn a LaunchSpec into argv/env/stdin, and how to parse its output. Launching, process
// supervision, logging and the final `exited` event are the same for every agent.
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { GantryError } from '../domain/errors.js';
import type { AgentAdapter, AgentCapabilities, AgentDetection, AgentEvent, ExitInfo, LaunchSpec, SessionHandle } from '../ports/agent.js';
import { resolveBinary } from './binary.js';
import { innerSandboxMessage } from './inner-sandbox.js';
import { AsyncQueue } from './process/async-queue.js';
import { agentEnv, isDenied } from './process/env.js';
import { supervise } from './process/supervisor.js';
import { sandboxed } from './sandbox/wrap.js';
import { launchInTmux } from './process/tmux.js';
import type { StreamParser } from './stream-parser.js';

export interface CommandPlan {
  argv: string[];
  /** Variables Gantry sets for this launch (on top of the scrubbed environment). */
  env: Record<string, string>;
  stdin?: string;
  /** Files written (mode 0600) before launch, e.g. settings or the prompt for a command agent. */
  files?: { path: string; content: string }[];
}

export interface CliAgentDef {
  id: string;
  displayName: string;
  capabilities: AgentCapabilities;
  binaryName: string;
  installHint: string;
  versionArgs?: string[];
  /** The agent's own auth and endpoint variables, passed through from Gantry's environment. */
  envPassThrough: readonly string[];
  plan(spec: LaunchSpec, binary: string): CommandPlan;
  /** The agent's own state and auth (writable inside Gantry's sandbox); `~/` is the agent's HOME. */
  statePaths?(env: Record<string, string>): string[];
  /** The agent's own sandbox on this host (`gantry doctor`; a broken one refuses the launch). */
  innerSandbox?: AgentAdapter['innerSandbox'];
  /** The agent's interactive TUI (for tmux); absent = the agent has no interactive mode here. */
  interactivePlan?(spec: LaunchSpec, binary: string): CommandPlan;
  parser(spec: LaunchSpec): StreamParser;
  /** Rewrites a stdout line before it is logged (agents that echo the prompt: prompts are never logged). */
  logLine?(line: string): string;
}

function version(binary: string, args: string[], env: NodeJS.ProcessEnv): Promise<string | null> {
  return new Promise((resolve) => {
    // Same scrubbing as a launch (a leaked CLAUDECODE makes Claude Code refuse to start).
    const clean = Object.fromEntries(Object.entries(env).filter(([k]) => !isDenied(k)));
    execFile(binary, args, { timeout: 15_000, env: clean }, (err, stdout, stderr) => {
      if (err) return resolve(null);
      const line = `${stdout}${stderr}`.split('\n').find((l) => l.trim() !== '');
      resolve(line?.trim() ?? null);
    });
  });
}

export async function detectCli(def: CliAgentDef, opts: { binary?: string; env?: NodeJS.ProcessEnv } = {}): Promise<AgentDetection> {
  const env = opts.env ?? process.env;
  const path = resolveBinary(def.binaryName, opts.binary, env);
  if (!path) return { id: def.id, installed: false, version: null, path: null, ready: false, hint: def.installHint };
  const v = await version(path, def.versionArgs ?? ['--version'], env);
  return v
    ? { id: def.id, installed: true, version: v, path, ready: true, hint: null }
    : { id: def.id, installed: true, version: null, path, ready: false, hint: `${path} did not answer ${(def.versionArgs ?? ['--version']).join(' ')}; reinstall it (${def.installHint})` };
}

function writePlanFiles(plan: CommandPlan): void {
  for (const f of plan.files ?? []) {
    mkdirSync(dirname(f.path), { recursive: true });
    writeFileSync(f.path, f.content, { mode: 0o600 });
  }
}

export interface PlannedExtras {
  /** Rewrites each line before it reaches the session log (e.g. drops an echoed prompt). */
  logLine?: (line: string) => string;
  /** The agent's own state the sandbox must let it write (see AgentDef.statePaths). */
  statePaths?: (env: Record<string, string>) => string[];
}

/** Runs a planned command under supervision, parsing its stdout into normalized events. */
export function runPlanned(plan: CommandPlan, spec: LaunchSpec, parser: StreamParser, passThrough: readonly string[], extras: PlannedExtras = {}): SessionHandle {
  const { logLine, statePaths } = extras;
  writePlanFiles(plan);
  const queue = new AsyncQueue<AgentEvent>();
  const push = (events: AgentEvent[]): void => events.forEach((e) => queue.push(e));
  const env = agentEnv(process.env, { passThrough }, { ...(spec.env ?? {}), ...plan.env });
  const proc = supervise({
    argv: spec.sandbox ? sandboxed(spec.sandbox, plan.argv, spec.workspace, env, statePaths?.(env) ?? []) : plan.argv,
    cwd: spec.workspace,
    env,
    logFile: spec.logFile,
    ...(plan.stdin !== undefined ? { stdin: plan.stdin } : {}),
    ...(spec.timeoutMs ? { timeoutMs: spec.timeoutMs } : {}),
    ...(spec.inactivityMs ? { inactivityMs: spec.inactivityMs } : {}),
    ...(spec.killGraceMs ? { killGraceMs: spec.killGraceMs } : {}),
    ...(logLine ? { logLine } : {}),
    onLine: (line, truncated) => {
      try {
        push(parser.line(line, truncated));
      } catch (e) {
        push([{ type: 'error', message: `parser failed: ${(e as Error).message}`, fatal: false }]);
      }
    },
  });
  const exited: Promise<ExitInfo> = proc.exited.then((info) => {
    if (info.reason === 'spawn_failed') push([{ type: 'error', message: `could not start ${plan.argv[0] ?? 'agent'}`, fatal: true }]);
    else {
      try {
        push(parser.end(info));
      } catch (e) {
        push([{ type: 'error', message: `parser failed: ${(e as Error).message}`, fatal: false }]);
      }
    }
    queue.push({ type: 'exited', ...info });
    queue.end();
    return info;
  });
  return {
    pid: proc.pid,
    events: queue,
    exited,
    interrupt: () => proc.signal('SIGINT'),
    stop: (reason) => proc.stop(reason),
  };
}

/** Runs a planned command in tmux; the only protocol event is the final `exited`. */
export function runInteractive(plan: CommandPlan, spec: LaunchSpec, passThrough: readonly string[], statePaths?: (env: Record<string, string>) => string[]): SessionHandle {
  writePlanFiles(plan);
  const queue = new AsyncQueue<AgentEvent>();
  const env = agentEnv(process.env, { passThrough }, { ...(spec.env ?? {}), ...plan.env });
  const argv = spec.sandbox ? sandboxed(spec.sandbox, plan.argv, spec.workspace, env, statePaths?.(env) ?? []) : plan.argv;
  const started = launchInTmux({ sessionId: spec.sessionId, argv, cwd: spec.workspace, env, logFile: spec.logFile, ...(spec.killGraceMs ? { killGraceMs: spec.killGraceMs } : {}) });
  let pid = 0;
  const exited: Promise<ExitInfo> = started.then(
    (t) => {
      pid = t.pid;
      // A person may be attached, so only the total limit applies (no inactivity limit).
      const limit = spec.timeoutMs ? setTimeout(() => void t.stop('timeout'), spec.timeoutMs) : null;
      return t.exited.finally(() => limit && clearTimeout(limit));
    },
    (e: unknown) => {
      queue.push({ type: 'error', message: `could not start tmux: ${(e as Error).message}`, fatal: true });
      return { code: null, signal: null, reason: 'spawn_failed' as const };
    },
  ).then((info) => {
    queue.push({ type: 'exited', ...info });
    queue.end();
    return info;
  });
  return {
    get pid() {
      return pid;
    },
    events: queue,
    exited,
    interrupt: () => void started.then((t) => t.interrupt(), () => undefined),
    stop: (reason) => started.then((t) => t.stop(reason), () => exited),
  };
}

/** A session that never started: one fatal error, then `exited` as a failed spawn. */
function refusedSession(message: string): SessionHandle {
  const queue = new AsyncQueue<AgentEvent>();
  const info: ExitInfo = { code: null, signal: null, reason: 'spawn_failed' };
  queue.push({ type: 'error', message, fatal: true });
  queue.push({ type: 'exited', ...info });
  queue.end();
  return { pid: 0, events: queue, exited: Promise.resolve(info), interrupt: () => undefined, stop: () => Promise.resolve(info) };
}

export function defineCliAgent(def: CliAgentDef): AgentAdapter {
  return {
    id: def.id,
    displayName: def.displayName,
    capabilities: def.capabilities,
    detect: (opts) => detectCli(def, opts),
    ...(def.innerSandbox ? { innerSandbox: def.innerSandbox } : {}),
    launch(spec) {
      const binary = resolveBinary(def.binaryName, spec.binary) ?? spec.binary ?? def.binaryName;
      if (spec.interactive) {
        if (!def.interactivePlan) {
          throw new GantryError('unsupported', `${def.displayName} has no interactive (tmux) mode in Gantry`, {
            field: `agents.${def.id}.interactive`,
            hint: 'remove `interactive: true` for this agent, or use claude-code or codex',
          });
        }
        return runInteractive(def.interactivePlan(spec, binary), spec, def.envPassThrough, def.statePaths);
      }
      // An agent whose own sandbox cannot start here would spend a model turn on commands that all
      // fail: refuse before launching, naming the remedy.
      const inner = def.innerSandbox?.(agentEnv(process.env, { passThrough: def.envPassThrough }, spec.env ?? {}), spec.sandbox !== undefined);
      if (inner?.state === 'broken') return refusedSession(innerSandboxMessage(def.displayName.replace(/ CLI$/, ''), inner.detail));
      return runPlanned(def.plan(spec, binary), spec, def.parser(spec), def.envPassThrough, {
        ...(def.logLine ? { logLine: (l: string) => def.logLine!(l) } : {}),
        ...(def.statePaths ? { statePaths: (e: Record<string, string>) => def.statePaths!(e) } : {}),
      });
    },
  };
}
