// The event stream sends keep-alive comments while idle, so proxies and browsers keep it open.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApi, type TestApi } from '../support/api.js';

describe('sse keep-alive', () => {
  let api: TestApi;
  before(async () => (api = await startTestApi('sqlite', { keepAliveMs: 30 })));
  after(async () => api?.close());

  it('writes ": keep-alive" comments on an idle stream, and requires a token', async () => {
    assert.equal((await fetch(`${api.url}/api/events/stream`)).status, 401);
    const ac = new AbortController();
    const res = await fetch(`${api.url}/api/events/stream?access_token=${api.token}`, { signal: ac.signal });
    assert.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8');
    const decoder = new TextDecoder();
    let text = '';
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      text += decoder.decode(chunk);
      if ((text.match(/: keep-alive/g) ?? []).length >= 2) break;
    }
    ac.abort();
    assert.match(text, /^retry: 2000/);
  });
});
