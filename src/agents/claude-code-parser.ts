// Claude Code `-p --output-format stream-json --verbose`: system/init (session_id), assistant
// messages (text and tool_use blocks), user messages (tool results), and one `result` per turn with
// usage and total_cost_usd. A result can say subtype "success" with is_error true (API errors).
import type { AgentEvent, TokenUsage } from '../ports/agent.js';
import { messageEvents } from './question.js';
import { jsonLine, num, obj, str, summarize, unfinishedTurn, type StreamParser } from './stream-parser.js';

function usageOf(u: Record<string, unknown>): TokenUsage {
  return {
    inputTokens: num(u.input_tokens) + num(u.cache_creation_input_tokens),
    outputTokens: num(u.output_tokens),
    cachedInputTokens: num(u.cache_read_input_tokens),
  };
}

/** Claude's own question tool (interactive builds) maps onto needs_input. */
function askUser(input: Record<string, unknown>): AgentEvent | null {
  const first = obj(Array.isArray(input.questions) ? input.questions[0] : undefined);
  const question = str(first.question) ?? str(input.question);
  if (!question) return null;
  const options = (Array.isArray(first.options) ? first.options : [])
    .map((o) => (typeof o === 'string' ? o : str(obj(o).label)))
    .filter((o): o is string => !!o);
  return options.length ? { type: 'needs_input', question, options } : { type: 'needs_input', question };
}

export function claudeCodeParser(): StreamParser {
  let started = false;
  let completed = false;
  return {
    line(text, truncated) {
      const parsed = jsonLine(text, truncated);
      if (parsed.ok !== true) return parsed.ok === 'skip' ? [] : [parsed.event];
      const ev = parsed.value;
      const out: AgentEvent[] = [];
      switch (ev.type) {
        case 'system': {
          const sid = str(ev.session_id);
          if (ev.subtype === 'init' && sid) {
            out.push({ type: 'session_started', agentSessionId: sid });
            if (!started) out.push({ type: 'turn_started' });
            started = true;
            completed = false;
          }
          if (ev.subtype === 'api_retry') out.push(claudeRetryNotice(ev));
          break;
        }
        case 'assistant': {
          const content = obj(ev.message).content;
          for (const block of Array.isArray(content) ? content : []) {
            const b = obj(block);
            if (b.type === 'text' && str(b.text)) out.push(...messageEvents(str(b.text) ?? ''));
            if (b.type === 'tool_use') {
              const input = obj(b.input);
              const name = str(b.name) ?? 'tool';
              const ask = name === 'AskUserQuestion' ? askUser(input) : null;
              out.push(ask ?? { type: 'tool_use', name, summary: summarize(input) });
            }
          }
          break;
        }
        case 'result': {
          const denials = Array.isArray(ev.permission_denials) ? ev.permission_denials : [];
          if (denials.length) {
            const tools = denials.map((d) => str(obj(d).tool_name) ?? '?').join(', ');
            out.push({ type: 'error', message: `permission denied for: ${tools}`, fatal: false });
          }
          if (ev.is_error === true || (str(ev.subtype) ?? 'success') !== 'success') {
            const status = ev.api_error_status ? ` (API status ${String(ev.api_error_status)})` : '';
            out.push({ type: 'error', message: `${str(ev.result) ?? str(ev.subtype) ?? 'turn failed'}${status}`, fatal: true });
          }
          const cost = typeof ev.total_cost_usd === 'number' ? ev.total_cost_usd : null;
          out.push({ type: 'turn_completed', usage: ev.usage ? usageOf(obj(ev.usage)) : null, costUsd: cost });
          completed = true;
          break;
        }
        default:
          break; // user (tool results), stream_event, system subtypes: transcript only
      }
      return out;
    },
    end: (exit) => unfinishedTurn(started, completed, exit),
  };
}

/** `system/api_retry`: Claude Code is retrying a failed model call (overloaded, 5xx, rate limit). */
export function claudeRetryNotice(ev: Record<string, unknown>): AgentEvent {
  const status = typeof ev.error_status === 'number' ? ev.error_status : null;
  const attempt = typeof ev.attempt === 'number' ? ev.attempt : '?';
  const max = typeof ev.max_retries === 'number' ? `/${ev.max_retries}` : '';
  const delay = typeof ev.retry_delay_ms === 'number' ? `; next attempt in ${(ev.retry_delay_ms / 1000).toFixed(1)} s` : '';
  const why = [status !== null ? String(status) : null, str(ev.error)].filter(Boolean).join(' ') || 'model call failed';
  return { type: 'notice', kind: status === 429 ? 'rate_limit' : 'retry', message: `model API retry ${attempt}${max} (${why})${delay}` };
}
