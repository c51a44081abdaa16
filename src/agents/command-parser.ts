// Parser for command agents: JSON lines that are normalized events pass through (validated);
// other output is only logged. At exit, the optional result file and the exit code complete the
// picture: exit 0 without a reported turn end = the turn completed.
import type { AgentEvent, ExitInfo } from '../ports/agent.js';
import { eventLine, resultFile, type CommandResult } from './command-contract.js';
import type { StreamParser } from './stream-parser.js';

export function commandParser(readResult: () => string | null): StreamParser {
  let sessionSeen = false;
  let completed = false;
  let asked = false;
  let failed = false;
  return {
    line(text) {
      const t = text.trim();
      if (!t.startsWith('{')) return [];
      let raw: unknown;
      try {
        raw = JSON.parse(t);
      } catch {
        return []; // ordinary output that happens to start with a brace
      }
      const parsed = eventLine.safeParse(raw);
      if (!parsed.success) {
        const type = (raw as { type?: unknown }).type;
        return typeof type === 'string' ? [{ type: 'error', message: `invalid ${type} event from command: ${parsed.error.issues[0]?.message ?? 'bad shape'}`, fatal: false }] : [];
      }
      const e = parsed.data as AgentEvent;
      if (e.type === 'session_started') sessionSeen = true;
      if (e.type === 'turn_started') completed = false;
      if (e.type === 'turn_completed') completed = true;
      if (e.type === 'needs_input') asked = true;
      if (e.type === 'error' && e.fatal) failed = true;
      return [e];
    },
    end(exit: ExitInfo) {
      const out: AgentEvent[] = [];
      let result: CommandResult | null = null;
      const text = readResult();
      if (text !== null) {
        try {
          const r = resultFile.safeParse(JSON.parse(text));
          if (r.success) result = r.data;
          else out.push({ type: 'error', message: `invalid result file: ${r.error.issues[0]?.message ?? 'bad shape'}`, fatal: false });
        } catch {
          out.push({ type: 'error', message: 'result file is not JSON', fatal: false });
        }
      }
      if (result?.agentSessionId && !sessionSeen) out.push({ type: 'session_started', agentSessionId: result.agentSessionId });
      if (result?.summary) out.push({ type: 'message', text: result.summary });
      if (result?.status === 'needs_input' && !asked) {
        const q = result.question ?? 'The agent needs input.';
        out.push(result.options?.length ? { type: 'needs_input', question: q, options: result.options } : { type: 'needs_input', question: q });
      }
      const ok = exit.code === 0 && exit.reason === 'exited' && result?.status !== 'failed';
      if (!ok && !failed) {
        const why = result?.status === 'failed' ? 'the command reported failure' : exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code ?? 'unknown'}`;
        out.push({ type: 'error', message: `command agent failed (${exit.reason}, ${why})`, fatal: true });
      }
      if (ok && !completed) {
        const usage = result?.usage ?? null;
        out.push({ type: 'turn_completed', usage, costUsd: result?.costUsd ?? null });
      }
      return out;
    },
  };
}
