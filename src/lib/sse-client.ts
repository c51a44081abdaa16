// A minimal server-sent-events reader over fetch, with Last-Event-ID resume. Used by the CLI
// (`logs -f`), remote factories and tests.
export interface SseMessage {
  id: string | null;
  event: string | null;
  data: string;
}

/** Parses an SSE byte stream into messages; comments (keep-alives) are skipped. */
export async function* parseSse(body: ReadableStream<Uint8Array>): AsyncGenerator<SseMessage> {
  const decoder = new TextDecoder();
  let buf = '';
  let id: string | null = null;
  let event: string | null = null;
  let data: string[] = [];
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    buf += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl).replace(/\r$/, '');
      buf = buf.slice(nl + 1);
      if (line === '') {
        if (data.length) yield { id, event, data: data.join('\n') };
        event = null;
        data = [];
        continue;
      }
      if (line.startsWith(':')) continue;
      const i = line.indexOf(':');
      const field = i < 0 ? line : line.slice(0, i);
      const value = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
      if (field === 'id') id = value;
      else if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
    }
  }
}

export interface SseConnectOptions {
  url: string;
  token: string;
  lastEventId?: string | null;
  signal?: AbortSignal;
}

export async function connectSse(o: SseConnectOptions): Promise<AsyncGenerator<SseMessage>> {
  const res = await fetch(o.url, {
    headers: { Authorization: `Bearer ${o.token}`, Accept: 'text/event-stream', ...(o.lastEventId ? { 'Last-Event-ID': o.lastEventId } : {}) },
    ...(o.signal ? { signal: o.signal } : {}),
  });
  if (!res.ok || !res.body) throw new Error(`event stream: HTTP ${res.status}`);
  return parseSse(res.body);
}
