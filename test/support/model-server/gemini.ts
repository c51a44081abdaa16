// Google Gemini API (POST .../models/<model>:streamGenerateContent?alt=sse and :generateContent),
// replaying a script. Helper calls without tools get a short reply; those asking for JSON (Gemini
// CLI's next-speaker check) get a JSON answer that hands the turn back to the user.
import type { ServerResponse } from 'node:http';
import { defaultUsage, pick, type ScriptedResponse } from './script.js';

interface GenerateRequest {
  contents?: { role?: string }[];
  tools?: { functionDeclarations?: unknown[] }[];
  generationConfig?: { responseMimeType?: string };
}

export const geminiIndex = (body: GenerateRequest): number => (body.contents ?? []).filter((c) => c.role === 'model').length;

const isAgentLoop = (body: GenerateRequest): boolean => (body.tools ?? []).some((t) => (t.functionDeclarations ?? []).length > 0);

export function replyGemini(res: ServerResponse, body: GenerateRequest, script: readonly ScriptedResponse[], stream: boolean): void {
  const loop = isAgentLoop(body);
  const json = body.generationConfig?.responseMimeType === 'application/json';
  const step: ScriptedResponse = loop ? pick(script, geminiIndex(body)) : { text: json ? '{"next_speaker":"user","reasoning":"scripted"}' : 'Scripted helper reply.' };
  if (step.hang) return; // a hung model: the socket stays open until the server closes
  if (step.error) {
    res.writeHead(step.error.status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { code: step.error.status, message: step.error.message, status: 'INVALID_ARGUMENT' } }));
    return;
  }
  const usage = step.usage ?? defaultUsage;
  const parts: Record<string, unknown>[] = [];
  if (step.text !== undefined) parts.push({ text: step.text });
  for (const t of step.tools ?? []) parts.push({ functionCall: { name: t.name, args: t.input } });
  const chunk = {
    candidates: [{ content: { role: 'model', parts }, finishReason: 'STOP', index: 0 }],
    usageMetadata: { promptTokenCount: usage.inputTokens, candidatesTokenCount: usage.outputTokens, totalTokenCount: usage.inputTokens + usage.outputTokens },
    modelVersion: 'scripted-model',
  };
  if (!stream) {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(chunk));
    return;
  }
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  res.write(`data: ${JSON.stringify(chunk)}\r\n\r\n`);
  res.end();
}
