// OpenAI Responses API (POST /v1/responses), streaming, replaying a script.
import type { ServerResponse } from 'node:http';
import { defaultUsage, pick, type ScriptedResponse } from './script.js';
import { sendSse, startSse } from './sse.js';

interface InputItem {
  type?: string;
  role?: string;
  call_id?: string;
}

interface ResponsesRequest {
  model?: string;
  input?: InputItem[] | string;
  tools?: unknown[];
}

/**
 * Responses already given = assistant messages plus tool-call steps in the history. A scripted
 * tool step emits only function calls (no text), and its call ids carry the step number, so
 * several calls of one step count once.
 */
export function responsesIndex(body: ResponsesRequest): number {
  if (!Array.isArray(body.input)) return 0;
  const steps = new Set<string>();
  let messages = 0;
  for (const item of body.input) {
    if (item.type === 'message' && item.role === 'assistant') messages += 1;
    if (item.type === 'function_call' && item.call_id) steps.add(item.call_id.replace(/_\d+$/, ''));
  }
  return messages + steps.size;
}

export const isResponsesAgentLoop = (body: ResponsesRequest): boolean => Array.isArray(body.tools) && body.tools.length > 0;

export function replyResponses(res: ServerResponse, body: ResponsesRequest, script: readonly ScriptedResponse[]): void {
  const index = responsesIndex(body);
  const step: ScriptedResponse = isResponsesAgentLoop(body) ? pick(script, index) : { text: 'Scripted helper reply.' };
  if (step.hang) return; // a hung model: the socket stays open until the server closes
  if (step.error) {
    res.writeHead(step.error.status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { type: 'invalid_request_error', code: 'invalid_request', message: step.error.message, param: null } }));
    return;
  }
  const usage = step.usage ?? defaultUsage;
  const respId = `resp_scripted_${index}_${Date.now().toString(36)}`;
  const model = body.model ?? 'scripted-model';
  let seq = 0;
  const send = (type: string, data: Record<string, unknown>): void => sendSse(res, type, { type, sequence_number: seq++, ...data });
  const base = { id: respId, object: 'response', created_at: Math.floor(Date.now() / 1000), model };
  startSse(res);
  send('response.created', { response: { ...base, status: 'in_progress', output: [] } });
  send('response.in_progress', { response: { ...base, status: 'in_progress', output: [] } });
  const output: Record<string, unknown>[] = [];
  if (step.tools?.length) {
    step.tools.forEach((t, i) => {
      const itemId = `fc_s${index}_${i}`;
      const args = JSON.stringify(t.input);
      const item = { id: itemId, type: 'function_call', call_id: `call_s${index}_${i}`, name: t.name, arguments: '' };
      send('response.output_item.added', { output_index: i, item: { ...item, status: 'in_progress' } });
      send('response.function_call_arguments.delta', { item_id: itemId, output_index: i, delta: args });
      send('response.function_call_arguments.done', { item_id: itemId, output_index: i, arguments: args });
      const done = { ...item, arguments: args, status: 'completed' };
      send('response.output_item.done', { output_index: i, item: done });
      output.push(done);
    });
  } else {
    const itemId = `msg_s${index}`;
    const text = step.text ?? '';
    send('response.output_item.added', { output_index: 0, item: { id: itemId, type: 'message', status: 'in_progress', role: 'assistant', content: [] } });
    send('response.content_part.added', { item_id: itemId, output_index: 0, content_index: 0, part: { type: 'output_text', text: '', annotations: [] } });
    send('response.output_text.delta', { item_id: itemId, output_index: 0, content_index: 0, delta: text });
    send('response.output_text.done', { item_id: itemId, output_index: 0, content_index: 0, text });
    const part = { type: 'output_text', text, annotations: [] };
    send('response.content_part.done', { item_id: itemId, output_index: 0, content_index: 0, part });
    const done = { id: itemId, type: 'message', status: 'completed', role: 'assistant', content: [part] };
    send('response.output_item.done', { output_index: 0, item: done });
    output.push(done);
  }
  send('response.completed', {
    response: {
      ...base,
      status: 'completed',
      output,
      usage: {
        input_tokens: usage.inputTokens,
        input_tokens_details: { cached_tokens: 0 },
        output_tokens: usage.outputTokens,
        output_tokens_details: { reasoning_tokens: 0 },
        total_tokens: usage.inputTokens + usage.outputTokens,
      },
    },
  });
  res.end();
}
