// The agent-neutral way an agent asks a person something: its final message ends with a fenced
// block tagged `gantry-question` holding {"question": "...", "options": ["...", ...]}. Role
// instructions teach every agent this convention; Claude's own question tool maps onto it too.
import type { AgentEvent } from '../ports/agent.js';

export const QUESTION_CONVENTION =
  'If you need a decision from a person before you can continue, stop and end your reply with a fenced ' +
  'code block tagged gantry-question containing JSON {"question": "...", "options": ["...", "..."]} ' +
  '(options optional). Gantry shows it to a person and resumes you with the answer.';

const BLOCK = /```gantry-question\s*\n([\s\S]*?)\n?```/;

export interface Question {
  question: string;
  options?: string[];
}

export function parseQuestionBlock(text: string): Question | null {
  const m = BLOCK.exec(text);
  if (!m?.[1]) return null;
  try {
    const raw = JSON.parse(m[1]) as { question?: unknown; options?: unknown };
    if (typeof raw.question !== 'string' || raw.question.trim() === '') return null;
    const options = Array.isArray(raw.options) ? raw.options.filter((o): o is string => typeof o === 'string') : [];
    return options.length ? { question: raw.question, options } : { question: raw.question };
  } catch {
    return null;
  }
}

/** A message event, followed by needs_input when the text carries a question block. */
export function messageEvents(text: string): AgentEvent[] {
  const q = parseQuestionBlock(text);
  const out: AgentEvent[] = [{ type: 'message', text }];
  if (q) out.push({ type: 'needs_input', ...q });
  return out;
}

export function withConvention(roleInstructions: string | undefined): string {
  return roleInstructions ? `${roleInstructions}\n\n${QUESTION_CONVENTION}` : QUESTION_CONVENTION;
}
