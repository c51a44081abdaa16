// An agent session's transcript for the dashboard: the session log (everything the agent process
// printed) read back through that agent's own output parser, so the page shows tool calls,
// messages and questions instead of raw protocol lines. Lines a parser does not understand are
// kept as plain output. Only the tail is read, so a long session stays cheap to show.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { aiderParser } from '../agents/aider-parser.js';
import { claudeCodeParser } from '../agents/claude-code-parser.js';
import { codexParser } from '../agents/codex-parser.js';
import { commandParser } from '../agents/command-parser.js';
import { geminiParser } from '../agents/gemini-parser.js';
import { opencodeParser } from '../agents/opencode-parser.js';
import type { StreamParser } from '../agents/stream-parser.js';
import type { AgentEvent } from '../ports/agent.js';

const PARSERS: Record<string, () => StreamParser> = {
  'claude-code': claudeCodeParser,
  codex: codexParser,
  gemini: geminiParser,
  opencode: opencodeParser,
  aider: aiderParser,
  scripted: () => commandParser(() => null),
  command: () => commandParser(() => null),
};

export type TranscriptKind = 'tool' | 'message' | 'question' | 'turn' | 'error' | 'output';

export interface TranscriptEntry {
  kind: TranscriptKind;
  text: string;
}

export interface Transcript {
  generation: number;
  entries: TranscriptEntry[];
  /** Bytes of log read; the client asks again when the session moves. */
  size: number;
  /** Only the tail of a longer log was read. */
  truncated: boolean;
}

const MAX_BYTES = 512 * 1024;
const MAX_ENTRIES = 500;
const MAX_TEXT = 4000;

const clip = (s: string): string => (s.length > MAX_TEXT ? `${s.slice(0, MAX_TEXT)}…` : s);

/** Pure: one parsed event as a transcript line (session bookkeeping events are dropped). */
export function entryOf(e: AgentEvent): TranscriptEntry | null {
  switch (e.type) {
    case 'tool_use':
      return { kind: 'tool', text: e.summary ? `${e.name} ${e.summary}` : e.name };
    case 'message':
      return e.text.trim() ? { kind: 'message', text: clip(e.text) } : null;
    case 'needs_input':
      return { kind: 'question', text: e.options?.length ? `${e.question} (${e.options.join(' · ')})` : e.question };
    case 'turn_completed':
      return { kind: 'turn', text: `turn completed${e.usage ? ` · ${e.usage.inputTokens + e.usage.outputTokens} tokens` : ''}${e.costUsd ? ` · $${e.costUsd.toFixed(4)}` : ''}` };
    case 'error':
      return e.fatal ? { kind: 'error', text: clip(e.message) } : null;
    case 'notice':
      return { kind: 'error', text: clip(e.message) };
    default:
      return null;
  }
}

/** Pure: log text → transcript entries, through the agent's parser when there is one. */
export function transcriptOf(agent: string, text: string): TranscriptEntry[] {
  const make = PARSERS[agent];
  const parser = make ? make() : null;
  const out: TranscriptEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const events = parser ? parser.line(line) : [];
    const entries = events.map(entryOf).filter((x): x is TranscriptEntry => x !== null);
    // A line the parser does not turn into anything (stderr, progress text) is shown as output,
    // unless it is protocol JSON the parser deliberately skipped.
    if (entries.length) out.push(...entries);
    else if (!line.trimStart().startsWith('{') && !(events.length && events.every((e) => e.type !== 'error'))) out.push({ kind: 'output', text: clip(line) });
  }
  return out.slice(-MAX_ENTRIES);
}

/** Reads `<logsDir>/<sessionId>/<generation>.log` (its tail) into a transcript. */
export function readTranscript(logsDir: string, sessionId: string, generation: number, agent: string): Transcript | null {
  if (!/^[\w.-]+$/.test(sessionId)) return null;
  let fd: number;
  try {
    fd = openSync(join(logsDir, sessionId, `${generation}.log`), 'r');
  } catch {
    return null;
  }
  try {
    const size = fstatSync(fd).size;
    const start = Math.max(0, size - MAX_BYTES);
    const buf = Buffer.alloc(size - start);
    readSync(fd, buf, 0, buf.length, start);
    let text = buf.toString('utf8');
    if (start > 0) text = text.slice(text.indexOf('\n') + 1); // drop the partial first line
    return { generation, entries: transcriptOf(agent, text), size, truncated: start > 0 };
  } finally {
    closeSync(fd);
  }
}
