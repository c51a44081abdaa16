// The scripted model server speaks both streaming APIs well enough for real CLIs; these checks
// pin the wire format so a change is caught even where the CLIs are not installed.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startModelServer, type ModelServer } from '../support/model-server/server.js';

const sse = (text: string): { event: string; data: Record<string, unknown> }[] =>
  text
    .split('\n\n')
    .filter(Boolean)
    .map((block) => ({ event: /event: (.*)/.exec(block)?.[1] ?? '', data: JSON.parse(/data: (.*)/.exec(block)?.[1] ?? '{}') as Record<string, unknown> }));

describe('scripted model server', () => {
  let server: ModelServer;
  before(async () => {
    server = await startModelServer([{ text: 'Calling.', tools: [{ name: 'Write', input: { file_path: '/x', content: 'y' } }] }, { text: 'Done.' }]);
  });
  after(() => server.close());

  const post = async (path: string, body: unknown): Promise<string> => {
    const r = await fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    assert.equal(r.status, 200);
    return r.text();
  };

  it('Anthropic Messages: picks the response by history length and streams tool input in pieces', async () => {
    const first = sse(await post('/v1/messages', { stream: true, tools: [{ name: 'Write' }], messages: [{ role: 'user', content: 'go' }] }));
    assert.deepEqual(first.map((e) => e.event), ['message_start', 'content_block_start', 'content_block_delta', 'content_block_stop', 'content_block_start', 'content_block_delta', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop']);
    const json = first.filter((e) => (e.data.delta as { type?: string } | undefined)?.type === 'input_json_delta').map((e) => (e.data.delta as { partial_json: string }).partial_json).join('');
    assert.deepEqual(JSON.parse(json), { file_path: '/x', content: 'y' });
    assert.equal((first.at(-2)?.data.delta as { stop_reason: string }).stop_reason, 'tool_use');
    const second = sse(await post('/v1/messages', { stream: true, tools: [{ name: 'Write' }], messages: [{ role: 'user', content: 'go' }, { role: 'assistant', content: [] }, { role: 'user', content: [] }] }));
    assert.equal((second[2]?.data.delta as { text: string }).text, 'Done.');
    const helper = JSON.parse(await post('/v1/messages', { messages: [{ role: 'user', content: 'title?' }] })) as { content: { text: string }[] };
    assert.equal(helper.content[0]?.text, 'Scripted helper reply.');
  });

  it('OpenAI Responses: function calls carry the step in their call id; completion has usage', async () => {
    const first = sse(await post('/v1/responses', { stream: true, tools: [{ type: 'function', name: 'Write' }], input: [{ type: 'message', role: 'user', content: [] }] }));
    const added = first.find((e) => e.event === 'response.output_item.added')?.data.item as { type: string; call_id: string };
    assert.deepEqual([added.type, added.call_id], ['function_call', 'call_s0_0']);
    const done = first.at(-1);
    assert.equal(done?.event, 'response.completed');
    assert.ok(((done?.data.response as { usage: { input_tokens: number } }).usage.input_tokens ?? 0) > 0);
    const second = sse(await post('/v1/responses', { stream: true, tools: [{}], input: [{ type: 'function_call', call_id: 'call_s0_0' }, { type: 'function_call_output', call_id: 'call_s0_0' }] }));
    assert.equal(second.find((e) => e.event === 'response.output_text.delta')?.data.delta, 'Done.');
  });

  it('Gemini: function calls and text as model parts; JSON helper calls get JSON', async () => {
    const first = sse(await post('/v1beta/models/m:streamGenerateContent?alt=sse', { tools: [{ functionDeclarations: [{ name: 'Write' }] }], contents: [{ role: 'user', parts: [] }] }).then((t) => t.replace(/^data: /gm, 'event: x\ndata: ')));
    const parts = ((first[0]?.data.candidates as { content: { parts: Record<string, unknown>[] } }[])[0]?.content.parts ?? []);
    assert.deepEqual(parts, [{ text: 'Calling.' }, { functionCall: { name: 'Write', args: { file_path: '/x', content: 'y' } } }]);
    const helper = JSON.parse(await post('/v1beta/models/m:generateContent', { contents: [], generationConfig: { responseMimeType: 'application/json' } })) as { candidates: { content: { parts: { text: string }[] } }[] };
    assert.equal((JSON.parse(helper.candidates[0]?.content.parts[0]?.text ?? '{}') as { next_speaker: string }).next_speaker, 'user');
  });

  it('answers count_tokens, model lists and unknown routes sanely', async () => {
    assert.deepEqual(JSON.parse(await post('/v1/messages/count_tokens', {})), { input_tokens: 100 });
    assert.equal((await fetch(`${server.url}/v1/models`)).status, 200);
    assert.equal((await fetch(`${server.url}/api/event_logging/batch`, { method: 'POST', body: '{}' })).status, 200);
  });
});
