// A local HTTP model server for tests and demos: speaks the Anthropic Messages API, the OpenAI
// Responses API and the Gemini API (all streaming), replaying a scripted conversation. Real agent CLIs are pointed
// at it (ANTHROPIC_BASE_URL; a Codex model provider with base_url) so tests drive them offline.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { replyAnthropic } from './anthropic.js';
import { replyGemini } from './gemini.js';
import { replyResponses } from './openai-responses.js';
import type { ScriptedResponse } from './script.js';

export type { ScriptedResponse, ScriptedToolCall } from './script.js';

export interface RecordedRequest {
  method: string;
  path: string;
  body: unknown;
}

export interface ModelServer {
  /** Base URL without a trailing slash, e.g. http://127.0.0.1:1234 */
  url: string;
  requests: RecordedRequest[];
  /** Replace the script (e.g. between test scenarios sharing one server). */
  setScript(script: readonly ScriptedResponse[]): void;
  /**
   * Pick the script per request (several conversations at once, e.g. a pipeline's planner, implementer
   * and reviewer): the router sees the request body; undefined falls back to the script.
   */
  setRouter(route: ((body: Record<string, unknown>) => readonly ScriptedResponse[] | undefined) | null): void;
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text) return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return { unparsed: text.slice(0, 200) };
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

export async function startModelServer(initial: readonly ScriptedResponse[] = []): Promise<ModelServer> {
  let current = initial;
  let router: ((body: Record<string, unknown>) => readonly ScriptedResponse[] | undefined) | null = null;
  const requests: RecordedRequest[] = [];
  const server = createServer((req, res) => {
    void (async () => {
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      const body = await readBody(req);
      requests.push({ method: req.method ?? 'GET', path, body });
      const b = (body ?? {}) as Record<string, unknown>;
      const script = (router?.(b) ?? current) as readonly ScriptedResponse[];
      if (req.method === 'POST' && path.endsWith('/messages/count_tokens')) return json(res, 200, { input_tokens: 100 });
      if (req.method === 'POST' && path.endsWith('/messages')) return replyAnthropic(res, b, script);
      if (req.method === 'POST' && path.endsWith('/responses')) return replyResponses(res, b, script);
      if (req.method === 'POST' && path.endsWith(':streamGenerateContent')) return replyGemini(res, b, script, true);
      if (req.method === 'POST' && path.endsWith(':generateContent')) return replyGemini(res, b, script, false);
      if (req.method === 'POST' && path.endsWith(':countTokens')) return json(res, 200, { totalTokens: 100 });
      if (req.method === 'GET' && path.endsWith('/models')) return json(res, 200, { object: 'list', data: [], models: [] });
      // Telemetry, update checks and anything else: answer sanely so a CLI never stalls on it.
      return json(res, 200, {});
    })().catch((e: unknown) => json(res, 500, { error: { type: 'server_error', message: String(e) } }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    setScript(next) {
      current = next;
    },
    setRouter(next) {
      router = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
