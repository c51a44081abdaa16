// Each adapter's parser against event streams recorded from real runs (test/agents/fixtures,
// re-recorded with GANTRY_RECORD_FIXTURES=1), plus malformed and truncated input: never throws.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { claudeCodeParser } from '../../src/agents/claude-code-parser.js';
import { codexParser } from '../../src/agents/codex-parser.js';
import { geminiParser } from '../../src/agents/gemini-parser.js';
import { opencodeParser } from '../../src/agents/opencode-parser.js';
import type { StreamParser } from '../../src/agents/stream-parser.js';
import type { AgentEvent, ExitInfo } from '../../src/ports/agent.js';

const fixture = (name: string): string[] => readFileSync(new URL(`./fixtures/${name}.jsonl`, import.meta.url), 'utf8').split('\n');
const ok: ExitInfo = { code: 0, signal: null, reason: 'exited' };
const killed: ExitInfo = { code: null, signal: 'SIGKILL', reason: 'exited' };

function run(parser: StreamParser, lines: string[], exit: ExitInfo = ok): AgentEvent[] {
  return [...lines.flatMap((l) => parser.line(l)), ...parser.end(exit)];
}
const types = (events: AgentEvent[]): string[] => events.map((e) => e.type);

describe('claude-code parser', () => {
  it('reads a recorded edit-and-commit turn', () => {
    const events = run(claudeCodeParser(), fixture('claude-code-edit-commit'));
    assert.deepEqual(types(events), ['session_started', 'turn_started', 'message', 'tool_use', 'tool_use', 'message', 'turn_completed']);
    const done = events.at(-1);
    assert.equal(done?.type, 'turn_completed');
    if (done?.type === 'turn_completed') {
      assert.deepEqual(done.usage, { inputTokens: 360, outputTokens: 90, cachedInputTokens: 0 });
      assert.ok((done.costUsd ?? 0) > 0);
    }
    const tool = events.find((e) => e.type === 'tool_use');
    assert.equal(tool?.type === 'tool_use' && tool.name, 'Write');
  });

  it('keeps the session id across a resumed turn', () => {
    const a = run(claudeCodeParser(), fixture('claude-code-edit-commit'))[0];
    const b = run(claudeCodeParser(), fixture('claude-code-resume'))[0];
    assert.equal(a?.type, 'session_started');
    assert.deepEqual(a, b);
  });

  it('turns a question block into needs_input', () => {
    const events = run(claudeCodeParser(), fixture('claude-code-question'));
    assert.deepEqual(events.find((e) => e.type === 'needs_input'), { type: 'needs_input', question: 'Which database?', options: ['SQLite', 'PostgreSQL'] });
  });

  it('reports a killed run as an unfinished turn', () => {
    const events = run(claudeCodeParser(), fixture('claude-code-killed'), killed);
    assert.deepEqual(types(events), ['session_started', 'turn_started', 'tool_use', 'error']);
    assert.deepEqual(events.at(-1), { type: 'error', message: 'agent stopped before the turn completed (exited, signal SIGKILL)', fatal: true });
  });

  it('reads a recorded API error: a fatal error, then the turn boundary', () => {
    const events = run(claudeCodeParser(), fixture('claude-code-api-error'), { code: 1, signal: null, reason: 'exited' });
    const fatal = events.filter((e) => e.type === 'error' && e.fatal);
    assert.equal(fatal.length, 1);
    assert.match(fatal[0]?.type === 'error' ? fatal[0].message : '', /scripted bad request/);
    assert.equal(events.at(-1)?.type, 'turn_completed');
  });

  it('reports API errors hidden in a success result, and permission denials', () => {
    const p = claudeCodeParser();
    const events = run(p, [
      '{"type":"system","subtype":"init","session_id":"abc"}',
      '{"type":"result","subtype":"success","is_error":true,"api_error_status":429,"result":"rate limited","usage":{"input_tokens":1,"output_tokens":2},"total_cost_usd":0,"permission_denials":[{"tool_name":"Bash"}]}',
    ]);
    assert.deepEqual(events.slice(2), [
      { type: 'error', message: 'permission denied for: Bash', fatal: false },
      { type: 'error', message: 'rate limited (API status 429)', fatal: true },
      { type: 'turn_completed', usage: { inputTokens: 1, outputTokens: 2, cachedInputTokens: 0 }, costUsd: 0 },
    ]);
  });

  it('maps the AskUserQuestion tool to needs_input', () => {
    const line = JSON.stringify({
      type: 'assistant',
      message: { content: [{ type: 'tool_use', name: 'AskUserQuestion', input: { questions: [{ question: 'Ship it?', options: [{ label: 'yes' }, { label: 'no' }] }] } }] },
    });
    assert.deepEqual(claudeCodeParser().line(line), [{ type: 'needs_input', question: 'Ship it?', options: ['yes', 'no'] }]);
  });
});

describe('codex parser', () => {
  it('reads a recorded edit-and-commit turn', () => {
    const events = run(codexParser(), fixture('codex-edit-commit'));
    const t = types(events);
    assert.equal(t[0], 'session_started');
    assert.ok(t.indexOf('turn_started') < t.indexOf('turn_completed'));
    assert.equal(t.at(-1), 'turn_completed');
    const done = events.at(-1);
    assert.ok(done?.type === 'turn_completed' && done.usage && done.usage.inputTokens > 0 && done.costUsd === null);
    assert.deepEqual(events.filter((e) => e.type === 'error' && e.fatal), []);
  });

  it('keeps the thread id across a resumed turn', () => {
    assert.deepEqual(run(codexParser(), fixture('codex-edit-commit'))[0], run(codexParser(), fixture('codex-resume'))[0]);
  });

  it('turns a question block into needs_input', () => {
    const events = run(codexParser(), fixture('codex-question'));
    assert.deepEqual(events.find((e) => e.type === 'needs_input'), { type: 'needs_input', question: 'Which database?', options: ['SQLite', 'PostgreSQL'] });
  });

  it('reports a killed run as an unfinished turn', () => {
    const events = run(codexParser(), fixture('codex-killed'), killed);
    assert.deepEqual(events.at(-1), { type: 'error', message: 'agent stopped before the turn completed (exited, signal SIGKILL)', fatal: true });
  });

  it('reads a recorded API error as a failed turn', () => {
    const events = run(codexParser(), fixture('codex-api-error'), { code: 1, signal: null, reason: 'exited' });
    const fatal = events.filter((e) => e.type === 'error' && e.fatal);
    assert.equal(fatal.length, 1);
    assert.match(fatal[0]?.type === 'error' ? fatal[0].message : '', /scripted bad request/);
    assert.equal(events.some((e) => e.type === 'turn_completed'), false);
  });

  it('maps command, file-change and failure items', () => {
    const events = run(codexParser(), [
      '{"type":"turn.started"}',
      '{"type":"item.started","item":{"id":"i1","type":"command_execution","command":"npm test","status":"in_progress"}}',
      '{"type":"item.completed","item":{"id":"i1","type":"command_execution","command":"npm test","exit_code":0}}',
      '{"type":"item.completed","item":{"id":"i2","type":"file_change","changes":[{"path":"a.ts","kind":"update"}]}}',
      '{"type":"turn.failed","error":{"message":"stream disconnected"}}',
    ]);
    assert.deepEqual(events, [
      { type: 'turn_started' },
      { type: 'tool_use', name: 'shell', summary: 'npm test' },
      { type: 'tool_use', name: 'edit', summary: 'a.ts' },
      { type: 'error', message: 'stream disconnected', fatal: true },
    ]);
  });
});

describe('opencode parser (recorded from opencode 1.18)', () => {
  it('reads a recorded edit-and-commit run', () => {
    const events = run(opencodeParser(), fixture('opencode-edit-commit'));
    assert.deepEqual(types(events), ['session_started', 'turn_started', 'message', 'tool_use', 'tool_use', 'message', 'turn_completed']);
    const done = events.at(-1);
    assert.ok(done?.type === 'turn_completed' && (done.usage?.inputTokens ?? 0) > 0 && (done.costUsd ?? 0) > 0);
  });

  it('keeps the session id across a resumed run', () => {
    assert.deepEqual(run(opencodeParser(), fixture('opencode-edit-commit'))[0], run(opencodeParser(), fixture('opencode-resume'))[0]);
  });

  it('reports a refused tool call as a warning and the question as needs_input', () => {
    const events = run(opencodeParser(), fixture('opencode-question'));
    assert.ok(events.some((e) => e.type === 'error' && !e.fatal && e.message.startsWith('bash: ')));
    assert.deepEqual(events.find((e) => e.type === 'needs_input'), { type: 'needs_input', question: 'Which database?', options: ['SQLite', 'PostgreSQL'] });
  });
});

describe('gemini parser (recorded from Gemini CLI 0.61)', () => {
  it('reads a recorded edit-and-commit run', () => {
    const events = run(geminiParser(), fixture('gemini-edit-commit'));
    assert.deepEqual(types(events), ['session_started', 'turn_started', 'message', 'tool_use', 'tool_use', 'message', 'turn_completed']);
    const done = events.at(-1);
    assert.ok(done?.type === 'turn_completed' && (done.usage?.inputTokens ?? 0) > 0 && done.costUsd === null);
  });

  it('keeps the session id across a resumed run', () => {
    assert.deepEqual(run(geminiParser(), fixture('gemini-edit-commit'))[0], run(geminiParser(), fixture('gemini-resume'))[0]);
  });

  it('reports an unavailable tool as a warning and the question as needs_input', () => {
    const events = run(geminiParser(), fixture('gemini-question'));
    assert.ok(events.some((e) => e.type === 'error' && !e.fatal && e.message.startsWith('run_shell_command: ')));
    assert.deepEqual(events.find((e) => e.type === 'needs_input'), { type: 'needs_input', question: 'Which database?', options: ['SQLite', 'PostgreSQL'] });
  });
});

describe('parsers never crash on bad input', () => {
  const bad = ['{"type":"system","subtype":"init"', 'not json at all', '[1,2,3]', 'null', '{"type":42,"message":null}', '{"type":"assistant","message":{"content":"oops"}}', '{"type":"item.completed"}', '{"type":"turn.completed","usage":"x"}', '\u0000\u0001', ''];
  for (const [name, make] of [['claude-code', claudeCodeParser], ['codex', codexParser], ['opencode', opencodeParser], ['gemini', geminiParser]] as const) {
    it(`${name}: malformed lines become non-fatal errors, the stream goes on`, () => {
      const p = make();
      for (const line of bad) {
        for (const e of p.line(line)) if (e.type === 'error') assert.equal(e.fatal, false);
      }
      const errors = bad.flatMap((l) => make().line(l)).filter((e) => e.type === 'error');
      assert.ok(errors.length >= 3);
      // A recorded stream with a truncated tail: the unfinished turn is reported, nothing throws.
      const lines = fixture(`${name}-edit-commit`).filter(Boolean);
      const cut = [...lines.slice(0, -1), (lines.at(-1) ?? '').slice(0, 40)];
      const events = run(make(), cut, { code: 1, signal: null, reason: 'exited' });
      assert.ok(events.some((e) => e.type === 'error' && !e.fatal));
      assert.ok(events.some((e) => e.type === 'error' && e.fatal));
      assert.deepEqual(make().line('x'.repeat(100), true), [{ type: 'error', message: 'output line over the size limit dropped (100 bytes)', fatal: false }]);
    });
  }
});
