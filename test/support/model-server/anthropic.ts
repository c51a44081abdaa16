// Anthropic Messages API (POST /v1/messages), streaming and not, replaying a script.
import type { ServerResponse } from 'node:http';
import { defaultUsage, pick, type ScriptedResponse } from './script.js';
import { sendSse, startSse } from './sse.js';

interface MessagesRequest {
  model?: string;
  stream?: boolean;
  messages?: { role?: string }[];
  tools?: unknown[];
}

/** Responses already given in this conversation = assistant messages in the history. */
export const anthropicIndex = (body: MessagesRequest): number =>
  (body.messages ?? []).filter((m) => m.role === 'assistant').length;

/** Main agent-loop requests carry tools; helper calls (titles, summaries) do not. */
export const isAgentLoop = (body: MessagesRequest): boolean => Array.isArray(body.tools) && body.tools.length > 0;

function blocks(step: ScriptedResponse, index: number): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  if (step.text !== undefined) out.push({ type: 'text', text: step.text });
  (step.tools ?? []).forEach((t, i) => out.push({ type: 'tool_use', id: `toolu_s${index}_${i}`, name: t.name, input: t.input }));
  return out;
}

export function replyAnthropic(res: ServerResponse, body: MessagesRequest, script: readonly ScriptedResponse[]): void {
  const loop = isAgentLoop(body);
  const index = anthropicIndex(body);
  const step: ScriptedResponse = loop ? pick(script, index) : { text: 'Scripted helper reply.' };
  if (step.hang) return; // a hung model: the socket stays open until the server closes
  if (step.error) {
    res.writeHead(step.error.status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ type: 'error', error: { type: 'invalid_request_error', message: step.error.message } }));
    return;
  }
  const usage = step.usage ?? defaultUsage;
  const content = blocks(step, index);
  const stopReason = step.tools?.length ? 'tool_use' : 'end_turn';
  const id = `msg_scripted_${index}_${Date.now().toString(36)}`;
  const model = body.model ?? 'scripted-model';
  const usageOut = { input_tokens: usage.inputTokens, output_tokens: usage.outputTokens, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };
  if (!body.stream) {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ id, type: 'message', role: 'assistant', model, content, stop_reason: stopReason, stop_sequence: null, usage: usageOut }));
    return;
  }
  startSse(res);
  sendSse(res, 'message_start', {
    type: 'message_start',
    message: { id, type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null, usage: { ...usageOut, output_tokens: 1 } },
  });
  content.forEach((block, i) => {
    if (block.type === 'text') {
      sendSse(res, 'content_block_start', { type: 'content_block_start', index: i, content_block: { type: 'text', text: '' } });
      sendSse(res, 'content_block_delta', { type: 'content_block_delta', index: i, delta: { type: 'text_delta', text: block.text } });
    } else {
      sendSse(res, 'content_block_start', { type: 'content_block_start', index: i, content_block: { type: 'tool_use', id: block.id, name: block.name, input: {} } });
      const json = JSON.stringify(block.input);
      const mid = Math.floor(json.length / 2);
      // Split the arguments in two deltas, as real servers do, so clients must reassemble them.
      sendSse(res, 'content_block_delta', { type: 'content_block_delta', index: i, delta: { type: 'input_json_delta', partial_json: json.slice(0, mid) } });
      sendSse(res, 'content_block_delta', { type: 'content_block_delta', index: i, delta: { type: 'input_json_delta', partial_json: json.slice(mid) } });
    }
    sendSse(res, 'content_block_stop', { type: 'content_block_stop', index: i });
  });
  sendSse(res, 'message_delta', { type: 'message_delta', delta: { stop_reason: stopReason, stop_sequence: null }, usage: { output_tokens: usage.outputTokens } });
  sendSse(res, 'message_stop', { type: 'message_stop' });
  res.end();
}
