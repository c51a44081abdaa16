// Gemini CLI `--output-format stream-json`: init (session_id, model), message (role, content,
// delta chunks), tool_use (tool_name, parameters), tool_result, error (warnings), result (status,
// stats with token counts). Recorded from real runs of Gemini CLI 0.61 (test/agents/fixtures/gemini-*).
import type { AgentEvent } from '../ports/agent.js';
import { messageEvents } from './question.js';
import { jsonLine, num, obj, str, summarize, unfinishedTurn, type StreamParser } from './stream-parser.js';

export function geminiParser(): StreamParser {
  let started = false;
  let completed = false;
  let text = '';
  const flush = (): AgentEvent[] => {
    const t = text;
    text = '';
    return t.trim() ? messageEvents(t) : [];
  };
  return {
    line(raw, truncated) {
      const parsed = jsonLine(raw, truncated);
      if (parsed.ok !== true) return parsed.ok === 'skip' ? [] : [parsed.event];
      const ev = parsed.value;
      switch (ev.type) {
        case 'init': {
          const id = str(ev.session_id);
          started = true;
          return id ? [{ type: 'session_started', agentSessionId: id }, { type: 'turn_started' }] : [{ type: 'turn_started' }];
        }
        case 'message':
          if (ev.role !== 'assistant') return [];
          if (ev.delta === true) {
            text += str(ev.content) ?? '';
            return [];
          }
          text += str(ev.content) ?? '';
          return flush();
        case 'tool_use':
          return [...flush(), { type: 'tool_use', name: str(ev.tool_name) ?? 'tool', summary: summarize(obj(ev.parameters)) }];
        case 'tool_result':
          // A refused or failed tool call is a warning; the model sees it and the turn goes on.
          return ev.status === 'error' ? [{ type: 'error', message: `${str(ev.tool_id)?.split('__')[0] ?? 'tool'}: ${(str(ev.output) ?? 'failed').slice(0, 200)}`, fatal: false }] : [];
        case 'error':
          return [{ type: 'error', message: str(ev.message) ?? 'gemini error', fatal: false }];
        case 'result': {
          completed = true;
          const out = flush();
          if (ev.status === 'error') out.push({ type: 'error', message: str(obj(ev.error).message) ?? 'turn failed', fatal: true });
          const s = obj(ev.stats);
          const usage = ev.stats ? { inputTokens: num(s.input_tokens), outputTokens: num(s.output_tokens), cachedInputTokens: num(s.cached) } : null;
          out.push({ type: 'turn_completed', usage, costUsd: null });
          return out;
        }
        default:
          return [];
      }
    },
    end: (exit) => [...flush(), ...unfinishedTurn(started, completed, exit)],
  };
}

/**
 * Gemini's stream-json echoes the prompt as its first `message` (role user): the session log keeps
 * the line with the content replaced, so prompts are never logged. Other lines pass unchanged.
 */
export function geminiLogLine(line: string): string {
  if (!line.includes('"role":"user"')) return line;
  try {
    const ev = JSON.parse(line) as Record<string, unknown>;
    if (ev.type === 'message' && ev.role === 'user') return JSON.stringify({ ...ev, content: '[prompt omitted from the log]' });
  } catch {
    // not JSON: logged as is
  }
  return line;
}
