// Codex `exec --json`: thread.started (thread_id = resume key), turn.started, item.started /
// item.completed (agent_message, command_execution, file_change, mcp_tool_call, web_search, error),
// turn.completed with token usage (no cost), turn.failed, and top-level error (retry notices).
import type { AgentEvent } from '../ports/agent.js';
import { innerSandboxFailure, innerSandboxMessage } from './inner-sandbox.js';
import { messageEvents } from './question.js';
import { jsonLine, num, obj, str, unfinishedTurn, type StreamParser } from './stream-parser.js';

function itemEvents(phase: 'started' | 'completed', item: Record<string, unknown>, seen: Set<string>): AgentEvent[] {
  const id = str(item.id) ?? '';
  const once = (e: AgentEvent): AgentEvent[] => {
    if (seen.has(id)) return [];
    seen.add(id);
    return [e];
  };
  switch (item.type) {
    case 'agent_message':
      return phase === 'completed' ? messageEvents(str(item.text) ?? '') : [];
    case 'command_execution': {
      const use = once({ type: 'tool_use', name: 'shell', summary: (str(item.command) ?? '').slice(0, 160) });
      // A command its own sandbox could not start: the turn cannot do anything, so it must fail, not "finish".
      const broken = phase === 'completed' ? innerSandboxFailure(str(item.aggregated_output) ?? '') : null;
      return broken ? [...use, { type: 'error', message: innerSandboxMessage('Codex', broken), fatal: true }] : use;
    }
    case 'file_change': {
      const changes = Array.isArray(item.changes) ? item.changes : [];
      return once({ type: 'tool_use', name: 'edit', summary: changes.map((c) => str(obj(c).path) ?? '?').join(', ') });
    }
    case 'mcp_tool_call':
      return once({ type: 'tool_use', name: `${str(item.server) ?? 'mcp'}.${str(item.tool) ?? 'tool'}`, summary: '' });
    case 'web_search':
      return once({ type: 'tool_use', name: 'web_search', summary: str(item.query) ?? '' });
    case 'error':
      return phase === 'completed' ? [{ type: 'error', message: str(item.message) ?? 'codex reported an error', fatal: false }] : [];
    default:
      return []; // reasoning, todo_list: transcript only
  }
}

export function codexParser(): StreamParser {
  let started = false;
  let completed = false;
  const seen = new Set<string>();
  return {
    line(text, truncated) {
      const parsed = jsonLine(text, truncated);
      if (parsed.ok !== true) return parsed.ok === 'skip' ? [] : [parsed.event];
      const ev = parsed.value;
      switch (ev.type) {
        case 'thread.started': {
          const id = str(ev.thread_id);
          return id ? [{ type: 'session_started', agentSessionId: id }] : [];
        }
        case 'turn.started':
          started = true;
          completed = false;
          return [{ type: 'turn_started' }];
        case 'item.started':
        case 'item.updated':
          return itemEvents('started', obj(ev.item), seen);
        case 'item.completed':
          return itemEvents('completed', obj(ev.item), seen);
        case 'turn.completed': {
          completed = true;
          const u = obj(ev.usage);
          const usage = ev.usage
            ? { inputTokens: num(u.input_tokens), outputTokens: num(u.output_tokens), cachedInputTokens: num(u.cached_input_tokens) }
            : null;
          return [{ type: 'turn_completed', usage, costUsd: null }];
        }
        case 'turn.failed':
          completed = true;
          return [{ type: 'error', message: str(obj(ev.error).message) ?? 'turn failed', fatal: true }];
        case 'error':
          return [{ type: 'error', message: str(ev.message) ?? 'codex error', fatal: false }];
        default:
          return [];
      }
    },
    end: (exit) => unfinishedTurn(started, completed, exit),
  };
}
