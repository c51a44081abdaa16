// Parsers of agents not installed here (Gemini, OpenCode, Aider) against their documented output
// shapes, and the command-contract parser. Malformed input never throws.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { aiderParser, parseAiderTokens } from '../../src/agents/aider-parser.js';
import { commandParser } from '../../src/agents/command-parser.js';
import { geminiParser } from '../../src/agents/gemini-parser.js';
import { opencodeParser } from '../../src/agents/opencode-parser.js';
import type { StreamParser } from '../../src/agents/stream-parser.js';
import type { AgentEvent, ExitInfo } from '../../src/ports/agent.js';

const ok: ExitInfo = { code: 0, signal: null, reason: 'exited' };
const run = (p: StreamParser, lines: string[], exit: ExitInfo = ok): AgentEvent[] => [...lines.flatMap((l) => p.line(l)), ...p.end(exit)];
const q = '```gantry-question\n{"question":"Which one?","options":["a","b"]}\n```';

describe('gemini parser', () => {
  it('maps init, streamed message chunks, tools and the result', () => {
    const events = run(geminiParser(), [
      '{"type":"init","timestamp":"t","session_id":"g-1","model":"gemini-2.5-pro"}',
      '{"type":"message","role":"user","content":"do it"}',
      '{"type":"message","role":"assistant","content":"Working","delta":true}',
      '{"type":"message","role":"assistant","content":" on it.","delta":true}',
      '{"type":"tool_use","tool_name":"write_file","tool_id":"t1","parameters":{"file_path":"a.txt","content":"x"}}',
      '{"type":"tool_result","tool_id":"t1","status":"success","output":""}',
      JSON.stringify({ type: 'message', role: 'assistant', content: `Need input.\n${q}`, delta: true }),
      '{"type":"result","status":"success","stats":{"total_tokens":30,"input_tokens":20,"output_tokens":10,"cached":5}}',
    ]);
    assert.deepEqual(events, [
      { type: 'session_started', agentSessionId: 'g-1' },
      { type: 'turn_started' },
      { type: 'message', text: 'Working on it.' },
      { type: 'tool_use', name: 'write_file', summary: 'a.txt' },
      { type: 'message', text: `Need input.\n${q}` },
      { type: 'needs_input', question: 'Which one?', options: ['a', 'b'] },
      { type: 'turn_completed', usage: { inputTokens: 20, outputTokens: 10, cachedInputTokens: 5 }, costUsd: null },
    ]);
  });

  it('reports an error result as fatal, and a cut stream as unfinished', () => {
    const failed = run(geminiParser(), ['{"type":"init","session_id":"g"}', '{"type":"result","status":"error","error":{"message":"quota"}}']);
    assert.ok(failed.some((e) => e.type === 'error' && e.fatal && e.message === 'quota'));
    const cut = run(geminiParser(), ['{"type":"init","session_id":"g"}', '{"type":"message","role":"assis'], { code: 1, signal: null, reason: 'exited' });
    assert.deepEqual(cut.slice(-2).map((e) => e.type === 'error' && e.fatal), [false, true]);
  });
});

describe('opencode parser', () => {
  it('maps steps, text, tools and sums usage over steps', () => {
    const events = run(opencodeParser(), [
      '{"type":"step_start","sessionID":"ses_1","part":{"type":"step-start"}}',
      '{"type":"tool_use","sessionID":"ses_1","part":{"tool":"bash","state":{"status":"completed","input":{"command":"git status"}}}}',
      '{"type":"step_finish","sessionID":"ses_1","part":{"reason":"tool-calls","cost":0.01,"tokens":{"input":100,"output":10,"reasoning":0,"cache":{"read":50,"write":0}}}}',
      '{"type":"step_start","sessionID":"ses_1","part":{"type":"step-start"}}',
      '{"type":"text","sessionID":"ses_1","part":{"type":"text","text":"Done."}}',
      '{"type":"step_finish","sessionID":"ses_1","part":{"reason":"stop","cost":0.02,"tokens":{"input":120,"output":20,"reasoning":5,"cache":{"read":60,"write":0}}}}',
    ]);
    assert.deepEqual(events, [
      { type: 'session_started', agentSessionId: 'ses_1' },
      { type: 'turn_started' },
      { type: 'tool_use', name: 'bash', summary: 'git status' },
      { type: 'message', text: 'Done.' },
      { type: 'turn_completed', usage: { inputTokens: 220, outputTokens: 35, cachedInputTokens: 110 }, costUsd: 0.03 },
    ]);
  });

  it('reports errors as fatal', () => {
    const events = run(opencodeParser(), ['{"type":"error","sessionID":"s","error":{"name":"APIError","data":{"message":"bad key"}}}']);
    assert.ok(events.some((e) => e.type === 'error' && e.fatal && e.message === 'bad key'));
  });
});

describe('aider parser', () => {
  it('reads token reports with k/M suffixes', () => {
    assert.deepEqual(parseAiderTokens('Tokens: 2.3k sent, 150 received. Cost: $0.01 message, $0.05 session.'), {
      usage: { inputTokens: 2300, outputTokens: 150, cachedInputTokens: 0 },
      cost: 0.01,
    });
    assert.equal(parseAiderTokens('nothing here'), null);
  });

  it('turns edits, commits and exit codes into events', () => {
    const events = run(aiderParser(), ['Applied edit to src/a.ts', 'Commit 1a2b3c4 feat: add a', 'Tokens: 1k sent, 100 received. Cost: $0.02 message, $0.02 session.', q]);
    assert.deepEqual(events, [
      { type: 'turn_started' },
      { type: 'tool_use', name: 'edit', summary: 'src/a.ts' },
      { type: 'tool_use', name: 'commit', summary: '1a2b3c4 feat: add a' },
      { type: 'needs_input', question: 'Which one?', options: ['a', 'b'] },
      { type: 'turn_completed', usage: { inputTokens: 1000, outputTokens: 100, cachedInputTokens: 0 }, costUsd: 0.02 },
    ]);
    const failed = run(aiderParser(), ['boom'], { code: 2, signal: null, reason: 'exited' });
    assert.deepEqual(failed.at(-1), { type: 'error', message: 'aider failed (exited, exit code 2)', fatal: true });
  });
});

describe('command parser', () => {
  it('passes valid event lines, ignores ordinary output, flags invalid events', () => {
    const p = commandParser(() => null);
    assert.deepEqual(p.line('building...'), []);
    assert.deepEqual(p.line('{not json'), []);
    assert.deepEqual(p.line('{"type":"message","text":"hi"}'), [{ type: 'message', text: 'hi' }]);
    assert.equal(p.line('{"type":"needs_input"}')[0]?.type, 'error');
    assert.deepEqual(p.end(ok), [{ type: 'turn_completed', usage: null, costUsd: null }]);
  });

  it('completes the picture from the result file', () => {
    const result = JSON.stringify({ status: 'needs_input', question: 'Proceed?', options: ['yes', 'no'], agentSessionId: 'c-1', usage: { inputTokens: 5, outputTokens: 6 }, costUsd: 0.5 });
    assert.deepEqual(commandParser(() => result).end(ok), [
      { type: 'session_started', agentSessionId: 'c-1' },
      { type: 'needs_input', question: 'Proceed?', options: ['yes', 'no'] },
      { type: 'turn_completed', usage: { inputTokens: 5, outputTokens: 6, cachedInputTokens: 0 }, costUsd: 0.5 },
    ]);
    assert.deepEqual(commandParser(() => '{"status":"failed"}').end(ok), [{ type: 'error', message: 'command agent failed (exited, the command reported failure)', fatal: true }]);
    assert.equal(commandParser(() => 'garbage').end(ok)[0]?.type, 'error');
    assert.equal(commandParser(() => null).end({ code: 9, signal: null, reason: 'exited' })[0]?.type, 'error');
  });
});

describe('no parser throws on garbage', () => {
  const garbage = ['', '{', '[]', 'null', '{"type":null}', '{"type":"result","stats":7}', '{"type":"step_finish","part":"x"}', '{"type":"tool_use","part":{"state":null}}', '\uffff'];
  for (const [name, make] of [['gemini', geminiParser], ['opencode', opencodeParser], ['aider', aiderParser], ['command', () => commandParser(() => '{')]] as const) {
    it(name, () => {
      const p = make();
      for (const g of garbage) p.line(g);
      p.line('x'.repeat(50), true);
      assert.ok(Array.isArray(p.end({ code: null, signal: 'SIGKILL', reason: 'exited' })));
    });
  }
});
