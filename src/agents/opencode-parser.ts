// OpenCode `run --format json`: step_start / text / tool_use / step_finish / error lines, each
// with sessionID; step_finish carries tokens and cost per step, reason "stop" ends the turn.
// Recorded from real runs of opencode 1.18 (test/agents/fixtures/opencode-*.jsonl).
import type { AgentEvent } from '../ports/agent.js';
import { messageEvents } from './question.js';
import { jsonLine, num, obj, str, summarize, unfinishedTurn, type StreamParser } from './stream-parser.js';

export function opencodeParser(): StreamParser {
  let session: string | null = null;
  let started = false;
  let completed = false;
  const total = { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0 };
  let cost = 0;
  return {
    line(raw, truncated) {
      const parsed = jsonLine(raw, truncated);
      if (parsed.ok !== true) return parsed.ok === 'skip' ? [] : [parsed.event];
      const ev = parsed.value;
      const out: AgentEvent[] = [];
      const sid = str(ev.sessionID);
      if (sid && session === null) {
        session = sid;
        out.push({ type: 'session_started', agentSessionId: sid });
      }
      const part = obj(ev.part);
      switch (ev.type) {
        case 'step_start':
          if (!started || completed) out.push({ type: 'turn_started' });
          started = true;
          completed = false;
          break;
        case 'text':
          if (str(part.text)) out.push(...messageEvents(str(part.text) ?? ''));
          break;
        case 'tool_use': {
          const state = obj(part.state);
          const tool = str(part.tool) ?? 'tool';
          if (state.status !== 'pending') out.push({ type: 'tool_use', name: tool, summary: summarize(obj(state.input)) });
          // A refused or failed tool call (e.g. a permission rule) is a warning; the turn goes on.
          if (state.status === 'error') out.push({ type: 'error', message: `${tool}: ${(str(state.error) ?? 'failed').slice(0, 200)}`, fatal: false });
          break;
        }
        case 'step_finish': {
          const t = obj(part.tokens);
          total.inputTokens += num(t.input);
          total.outputTokens += num(t.output) + num(t.reasoning);
          total.cachedInputTokens += num(obj(t.cache).read);
          cost += num(part.cost);
          if (part.reason === 'stop') {
            completed = true;
            out.push({ type: 'turn_completed', usage: { ...total }, costUsd: cost });
          }
          break;
        }
        case 'error': {
          const e = obj(ev.error);
          out.push({ type: 'error', message: str(obj(e.data).message) ?? str(e.message) ?? str(ev.message) ?? 'opencode error', fatal: true });
          completed = true;
          break;
        }
        default:
          break;
      }
      return out;
    },
    end: (exit) => unfinishedTurn(started, completed, exit),
  };
}
