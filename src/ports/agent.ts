// The agent adapter contract: how the engine starts, resumes, interrupts and observes one coding
// agent (Claude Code, Codex, …, the built-in scripted agent) without knowing which one it is.
// Every adapter turns its agent's own output into the same normalized AgentEvent stream.
import type { Observation, ObservationSource } from '../domain/observation.js';

export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens: number;
}

export type AgentEvent =
  /** The agent's own conversation id (Claude session_id, Codex thread_id): the resume key. */
  | { type: 'session_started'; agentSessionId: string }
  | { type: 'turn_started' }
  | { type: 'tool_use'; name: string; summary: string }
  | { type: 'message'; text: string }
  | { type: 'needs_input'; question: string; options?: string[] }
  /** usage/cost are null when the agent does not report them. */
  | { type: 'turn_completed'; usage: TokenUsage | null; costUsd: number | null }
  /** The agent is retrying a model call, rate limited, or got an API error it recovers from: shown as it happens. */
  | { type: 'notice'; kind: 'retry' | 'rate_limit' | 'api_error'; message: string }
  /** fatal: the turn failed (vs. a warning such as an unparseable line). */
  | { type: 'error'; message: string; fatal: boolean }
  | { type: 'exited'; code: number | null; signal: string | null; reason: ExitReason };

/** Why the process ended: on its own, or because Gantry stopped it. */
export type ExitReason = 'exited' | 'stopped' | 'timeout' | 'inactive' | 'spawn_failed';

export interface ExitInfo {
  code: number | null;
  signal: string | null;
  reason: ExitReason;
}

/**
 * What the agent may do without asking. The default lets it edit files in the workspace and run
 * an explicit allowlist of tools; skipping permission checks entirely needs `skipPermissions`,
 * which only the project config can set (never a task or an API caller).
 */
export interface PermissionPolicy {
  /** 'edits': edit files, allowlisted tools only. 'readonly': plan/read only. */
  mode: 'edits' | 'readonly';
  /** Tool allowlist in the agent's own syntax (Claude: `Bash(git:*)`); empty = adapter default. */
  allowedTools: string[];
  skipPermissions: boolean;
}

export interface LaunchSpec {
  /** Gantry's session id (names logs, tmux sessions, hook tokens). */
  sessionId: string;
  launchGeneration: number;
  /** Absolute path of the workspace (the agent's cwd). */
  workspace: string;
  prompt: string;
  /** Role instructions (implementer, reviewer, …) appended to the agent's system prompt. */
  roleInstructions?: string;
  /** The step's role and attempt/round (1-based); scripted agents pick their script by them. */
  role?: string;
  attempt?: number;
  /** Continue this agent conversation (from an earlier session_started) instead of starting one. */
  resumeAgentSessionId?: string;
  permissions: PermissionPolicy;
  /** Where hooks post activity; the token authenticates this session only. */
  hook?: { url: string; token: string };
  /** Per-session log of everything the process printed (stdout and stderr). */
  logFile: string;
  /** Kill after this long in total / after this long without any output. */
  timeoutMs?: number;
  inactivityMs?: number;
  /** Grace between SIGTERM and SIGKILL when stopping. */
  killGraceMs?: number;
  /** Extra environment (e.g. endpoints for tests); Gantry's own variables are never inherited. */
  env?: Record<string, string>;
  /** The executable; default: found on PATH. */
  binary?: string;
  model?: string;
  /** Run the agent's own TUI in tmux for `gantry attach`; activity then comes from hooks only. */
  interactive?: boolean;
  /** Adapter-specific settings from gantry.yaml (e.g. the scripted agent's script, command argv). */
  options?: Record<string, unknown>;
  /** Run inside Gantry's process sandbox (absent: unsandboxed, the agent's own sandbox stays on). */
  sandbox?: SandboxSpec;
}

/** Gantry's process sandbox for one launch (bubblewrap); the worktree and git dirs come from the workspace. */
export interface SandboxSpec {
  bwrap: string;
  /** Hidden entirely: the Gantry home (tokens, database, other workspaces, logs); the agent's HOME is always hidden too. */
  hide: string[];
  /** Secret files hidden (read as empty), e.g. a factory's token file outside the home. */
  hideFiles: string[];
  /** Writable besides the worktree: the session's contract directory. */
  writable: string[];
  /** The project's `sandbox.grant` entries (`~/` expands to the agent's HOME). */
  grants: { path: string; write: boolean }[];
  network: boolean;
  /** Permission mode readonly: the worktree and git are mounted read-only. */
  readonly?: boolean;
}

export interface SessionHandle {
  pid: number;
  /** Normalized events, ending with exactly one `exited`. Consume it once. */
  events: AsyncIterable<AgentEvent>;
  exited: Promise<ExitInfo>;
  /** Ask the agent to stop the current turn (SIGINT to its process group). */
  interrupt(): void;
  /** SIGTERM the process group, then SIGKILL after the grace period. */
  stop(reason?: ExitReason): Promise<ExitInfo>;
}

export interface AgentCapabilities {
  /** How events arrive: a structured stream on stdout, or only the exit code (plus git diff). */
  transport: 'stream-json' | 'jsonl' | 'exit-code';
  /** Can a later turn continue the same conversation? */
  resume: boolean;
  /** How tool permissions are decided in headless mode. */
  approvals: 'policy' | 'sandbox' | 'auto' | 'none';
  interrupt: 'signal' | 'none';
  /** Does the agent report token usage / cost? */
  usage: 'tokens+cost' | 'tokens' | 'none';
  activitySources: ObservationSource[];
}

export interface AgentDetection {
  id: string;
  installed: boolean;
  version: string | null;
  path: string | null;
  /** installed and usable; when false, `hint` says what to do. */
  ready: boolean;
  hint: string | null;
}

export interface AgentAdapter {
  id: string;
  displayName: string;
  capabilities: AgentCapabilities;
  detect(opts?: { binary?: string; env?: NodeJS.ProcessEnv }): Promise<AgentDetection>;
  launch(spec: LaunchSpec): SessionHandle;
  /** The agent's own sandbox on this host, with and without Gantry's around it (`gantry doctor`). */
  innerSandbox?(env: NodeJS.ProcessEnv, gantrySandboxed: boolean): InnerSandboxStatus;
}

export interface InnerSandboxStatus {
  /** What runs: the agent's own sandbox, none (Gantry's is the boundary), or the agent's is broken here. */
  state: 'own' | 'off' | 'none' | 'broken';
  detail: string;
  fix?: string;
}

/** What an agent is doing, as evidence sources see it (DESIGN §7 activity axis). */
export type AgentActivity = 'working' | 'idle' | 'waiting_input' | 'blocked' | 'unknown';

/** What process liveness reports (DESIGN §7 runtime axis). */
export type AgentRuntime =
  | { state: 'alive'; pid: number }
  | { state: 'exited'; pid: number; code: number | null; signal: string | null; reason: ExitReason };

/** Where adapters and the hook endpoint deliver evidence; the lifecycle manager subscribes. */
export interface ActivitySink {
  activity(sessionId: string, obs: Observation<AgentActivity>): void;
  runtime(sessionId: string, obs: Observation<AgentRuntime>): void;
  /** The agent's own session id learned from a hook or the protocol. */
  agentSession?(sessionId: string, agentSessionId: string, launchGeneration: number): void;
}

/** What the engine asks for: which agent, in which workspace, for which step. */
export interface AgentLaunchRequest
  extends Pick<LaunchSpec, 'sessionId' | 'launchGeneration' | 'workspace' | 'prompt' | 'roleInstructions' | 'role' | 'attempt' | 'resumeAgentSessionId' | 'model'> {
  /** Registry id: claude-code, codex, gemini, opencode, aider, command, scripted. */
  agent: string;
  /** The project's gantry.yaml `agents:` section (binary, model, permissions, limits, scripts). */
  agentsConfig?: Record<string, unknown>;
  /** The project's gantry.yaml `sandbox:` section (mode, network, grants). */
  sandboxConfig?: { mode: 'auto' | 'required' | 'off'; network: boolean; grant: { path: string; write: boolean }[] };
}

/**
 * The engine's one entry point to agents: resolves the adapter and the project's settings, sets up
 * the session log and hooks, launches, and reports observations to the ActivitySink while the
 * caller consumes the same events.
 */
export interface AgentLauncher {
  launch(req: AgentLaunchRequest): SessionHandle;
}
