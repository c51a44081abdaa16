// Aider has no event stream: its plain output is scanned for the few lines that matter (edits
// applied, commits, the token/cost report) and the exit code decides the turn. The full reply is
// checked for a question block at the end.
import type { AgentEvent, TokenUsage } from '../ports/agent.js';
import { parseQuestionBlock } from './question.js';
import type { StreamParser } from './stream-parser.js';

const scaled = (n: string, unit: string | undefined): number => {
  const v = Number.parseFloat(n);
  return Math.round(unit === 'k' ? v * 1e3 : unit === 'M' ? v * 1e6 : v);
};

/** "Tokens: 2.3k sent, 150 received. Cost: $0.01 message, $0.05 session." */
export function parseAiderTokens(line: string): { usage: TokenUsage; cost: number | null } | null {
  const m = /Tokens:\s*([\d.]+)([kM]?)\s*sent,.*?([\d.]+)([kM]?)\s*received/.exec(line);
  if (!m?.[1] || !m[3]) return null;
  const cost = /Cost:\s*\$([\d.]+)\s*message/.exec(line);
  return {
    usage: { inputTokens: scaled(m[1], m[2]), outputTokens: scaled(m[3], m[4]), cachedInputTokens: 0 },
    cost: cost?.[1] ? Number.parseFloat(cost[1]) : null,
  };
}

export function aiderParser(): StreamParser {
  let usage: TokenUsage | null = null;
  let cost: number | null = null;
  let reply = '';
  let started = false;
  return {
    line(text) {
      const out: AgentEvent[] = [];
      if (!started) {
        started = true;
        out.push({ type: 'turn_started' });
      }
      const tokens = parseAiderTokens(text);
      if (tokens) {
        usage = { inputTokens: (usage?.inputTokens ?? 0) + tokens.usage.inputTokens, outputTokens: (usage?.outputTokens ?? 0) + tokens.usage.outputTokens, cachedInputTokens: 0 };
        cost = tokens.cost === null ? cost : (cost ?? 0) + tokens.cost;
        return out;
      }
      const applied = /^Applied edit to (.+)$/.exec(text.trim());
      if (applied?.[1]) out.push({ type: 'tool_use', name: 'edit', summary: applied[1] });
      const commit = /^Commit ([0-9a-f]{7,}) (.*)$/.exec(text.trim());
      if (commit?.[1]) out.push({ type: 'tool_use', name: 'commit', summary: `${commit[1]} ${commit[2] ?? ''}`.trim() });
      if (!applied && !commit) reply += `${text}\n`;
      return out;
    },
    end(exit) {
      const out: AgentEvent[] = [];
      const q = parseQuestionBlock(reply);
      if (q) out.push({ type: 'needs_input', ...q });
      if (exit.code === 0 && exit.reason === 'exited') out.push({ type: 'turn_completed', usage, costUsd: cost });
      else out.push({ type: 'error', message: `aider failed (${exit.reason}, ${exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code ?? 'unknown'}`})`, fatal: true });
      return out;
    },
  };
}
