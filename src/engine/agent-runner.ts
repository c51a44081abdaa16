// AgentRunner over the AgentLauncher port: launch the role's agent in the workspace, consume its
// normalized events, and boil them down to the one outcome a step needs (text, question, review,
// usage). Stops the agent when the step's signal aborts (cancel, lost lease) or its timeout passes.
import type { AgentLauncher, AgentLaunchRequest } from '../ports/agent.js';
import type { NewSession } from '../ports/lifecycle.js';
import type { AgentOutcome, AgentRequest, AgentRunner } from '../ports/engine.js';

/** The lifecycle's session records: each launch gets one, so evidence, `gantry sessions` and reactions see it. */
export interface SessionRecords {
  create(s: NewSession): Promise<unknown>;
  onSpawned(sessionId: string, f: { launchGeneration: number; pid?: number | null }): Promise<unknown>;
  /** A resumed launch continues an earlier record's conversation: that record is done. */
  onConversationContinued?(taskId: string, agentSessionId: string, bySessionId: string): Promise<unknown>;
  /** The launch threw before a process ran: the record ends (never left "spawning"). */
  onLaunchFailed?(sessionId: string): Promise<unknown>;
}

export interface LauncherRunnerDeps {
  launcher: AgentLauncher;
  sessions?: SessionRecords;
  factoryId?: string;
  /** The project's gantry.yaml `agents:` section for the task (binary, model, permissions, scripts). */
  agentsConfig(taskId: string): Promise<Record<string, unknown> | undefined>;
  /** The workspace's HEAD commit (null when unknown): compared before and after a turn. */
  headOf?(workspace: string): Promise<string | null>;
  /** The project's gantry.yaml `sandbox:` section for the task. */
  sandboxConfig?(taskId: string): Promise<AgentLaunchRequest['sandboxConfig'] | undefined>;
}

const REVIEW = /```gantry-review\s*\n([\s\S]*?)\n?```/;

/** A reviewer ends its reply with a fenced `gantry-review` JSON block (see REVIEW_CONVENTION). */
export function parseReviewBlock(text: string): AgentOutcome['review'] | undefined {
  const m = REVIEW.exec(text);
  if (!m?.[1]) return undefined;
  try {
    const raw = JSON.parse(m[1]) as Record<string, unknown>;
    return { score: raw.score, findings: raw.findings, summary: raw.summary };
  } catch {
    return undefined;
  }
}

/**
 * Which time limit stopped the agent, as a failure message naming the setting to raise (pure).
 * `step`: the step's `timeout:`; `timeout`/`inactive`: the agent's own limits from gantry.yaml.
 */
export function timeLimitFailure(agent: string, stoppedBy: string, stepTimeoutMs: number | undefined): string | null {
  if (stoppedBy === 'step') return `the agent ran past the step's timeout (${Math.round((stepTimeoutMs ?? 0) / 1000)} s; raise \`timeout:\` on the step)`;
  if (stoppedBy === 'timeout') return `the agent ran past its time limit (\`agents.${agent}.timeoutSeconds\` in gantry.yaml)`;
  if (stoppedBy === 'inactive') return `the agent printed nothing for too long and was stopped (\`agents.${agent}.inactivitySeconds\` in gantry.yaml)`;
  return null;
}

/** Gantry session ids are `<run>:<idx>:<key>:<launch>`; agents get a filesystem-safe form. */
export const launchSessionId = (id: string): string => id.replace(/[^\w.-]/g, '_');

export class LauncherAgentRunner implements AgentRunner {
  constructor(private readonly d: LauncherRunnerDeps) {}

  /** Launches, or ends the session record when the launch throws before a process runs. */
  private async launch(sid: string, start: () => ReturnType<AgentLauncher['launch']>): Promise<ReturnType<AgentLauncher['launch']>> {
    try {
      return start();
    } catch (e) {
      await this.d.sessions?.onLaunchFailed?.(sid).catch(() => undefined);
      throw e;
    }
  }

  async run(req: AgentRequest): Promise<AgentOutcome> {
    const agentsConfig = await this.d.agentsConfig(req.taskId);
    const headBefore = (await this.d.headOf?.(req.workspace).catch(() => null)) ?? null;
    const sandboxConfig = await this.d.sandboxConfig?.(req.taskId);
    const sid = launchSessionId(req.sessionId);
    await this.d.sessions?.create({ id: sid, taskId: req.taskId, runId: req.runId, stepRowId: req.stepRowId, agent: req.agent, workspace: req.workspace, factoryId: this.d.factoryId ?? null });
    const handle = await this.launch(sid, () => this.d.launcher.launch({
      agent: req.agent,
      sessionId: sid,
      launchGeneration: 1,
      workspace: req.workspace,
      prompt: req.prompt,
      role: req.role,
      attempt: req.attempt,
      ...(req.resumeAgentSessionId ? { resumeAgentSessionId: req.resumeAgentSessionId } : {}),
      ...(req.model ? { model: req.model } : {}),
      ...(agentsConfig ? { agentsConfig } : {}),
      ...(sandboxConfig ? { sandboxConfig } : {}),
    }));
    await this.d.sessions?.onSpawned(sid, { launchGeneration: 1, pid: handle.pid }).catch(() => undefined);
    if (req.resumeAgentSessionId) {
      await this.d.sessions?.onConversationContinued?.(req.taskId, req.resumeAgentSessionId, sid).catch(() => undefined);
    }
    let timedOut = false;
    const stop = (): void => void handle.stop('stopped').catch(() => undefined);
    const timer = req.timeoutMs
      ? setTimeout(() => {
          timedOut = true;
          // The work so far is checkpointed before the kill (bounded, so a stuck checkpoint cannot keep the agent alive).
          void Promise.race([(req.beforeStop?.('timeout') ?? Promise.resolve()).catch(() => undefined), new Promise((r) => setTimeout(r, 30_000).unref())])
            .then(() => handle.stop('timeout'))
            .catch(() => undefined);
        }, req.timeoutMs)
      : null;
    if (req.signal.aborted) stop();
    req.signal.addEventListener('abort', stop, { once: true });
    let agentSessionId: string | null = req.resumeAgentSessionId ?? null;
    const texts: string[] = [];
    let question: AgentOutcome['question'];
    let review: AgentOutcome['review'];
    let tokens = 0;
    let cost = 0;
    const split = { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0 };
    /** Every turn reported (or was priced at) a cost; false after one that was not. */
    let costKnown = true;
    let turns = 0;
    let fatal: string | undefined;
    /** The last retry / rate-limit notice: a failure after an outage says so. */
    let notice: string | undefined;
    let exit: { code: number | null; reason: string } = { code: null, reason: 'exited' };
    try {
      for await (const e of handle.events) {
        if (e.type === 'session_started') agentSessionId = e.agentSessionId;
        else if (e.type === 'message') {
          texts.push(e.text);
          review = parseReviewBlock(e.text) ?? review;
        } else if (e.type === 'needs_input') question = { question: e.question, options: e.options ?? [] };
        else if (e.type === 'turn_completed') {
          turns++;
          tokens += (e.usage?.inputTokens ?? 0) + (e.usage?.outputTokens ?? 0);
          split.inputTokens += e.usage?.inputTokens ?? 0;
          split.outputTokens += e.usage?.outputTokens ?? 0;
          split.cachedInputTokens += e.usage?.cachedInputTokens ?? 0;
          cost += e.costUsd ?? 0;
          if (e.costUsd === null) costKnown = false;
        } else if (e.type === 'error' && e.fatal) fatal = e.message;
        else if (e.type === 'notice') notice = e.message;
        else if (e.type === 'exited') exit = { code: e.code, reason: e.reason };
      }
    } finally {
      req.signal.removeEventListener('abort', stop);
      if (timer) clearTimeout(timer);
    }
    const headAfter = headBefore === null ? null : ((await this.d.headOf?.(req.workspace).catch(() => null)) ?? null);
    const committed = headBefore !== null && headAfter !== null ? { committed: headAfter !== headBefore, head: headAfter } : {};
    const base = { agentSessionId, text: texts.join('\n\n'), usage: { tokens, costUsd: cost, ...split, costKnown: turns > 0 && costKnown }, ...(review ? { review } : {}), ...committed };
    const limit = timeLimitFailure(req.agent, timedOut ? 'step' : exit.reason, req.timeoutMs);
    if (limit) return { ...base, status: 'failed', timedOut: true, error: limit };
    if (question && !fatal) return { ...base, status: 'needs_input', question };
    if (fatal || exit.code !== 0 || exit.reason !== 'exited') return { ...base, status: 'failed', error: `${fatal ?? `the agent ended (${exit.reason}, exit ${String(exit.code)})`}${notice ? ` (last notice: ${notice})` : ''}` };
    return { ...base, status: 'completed' };
  }
}
