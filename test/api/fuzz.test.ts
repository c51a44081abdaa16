// A fuzz of every route in the OpenAPI document, plus the static server, against a real
// coordinator on both stores: malformed percent-encodings, NUL bytes, traversal, huge and
// wrong-typed bodies, wrong content types, unknown methods, bad tokens. Zero 5xx, and no request
// changes any state (row counts and the event log stay exactly as they were).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { storeCases } from '../support/db.js';
import { startTestApi, type TestApi } from '../support/api.js';
import { makeRepo } from '../support/git.js';

interface Req {
  method: string;
  path: string;
  body?: Buffer | string;
  headers?: Record<string, string>;
  token?: string | null;
}

interface Res {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

const BAD_SEGMENTS = ['nope', '%', '%E0%A4%A', '%E0%A4', '%00', 'a%00b', '..%2F..%2Fetc%2Fpasswd', '%2e%2e', 'x'.repeat(5000), '%F0%9F%92%A9', "%27%20OR%201%3D1--", '-1', '9'.repeat(40)];
const BAD_QUERY_VALUES = ['', 'zero', '-1', '1.5', '1e309', '9'.repeat(40), '%00', '%', '%E0%A4', 'a'.repeat(5000), 'true', '[]'];

type Schema = { type?: string | string[]; properties?: Record<string, Schema>; items?: Schema; anyOf?: Schema[] };

/** Values of the wrong type for `s` (and, for strings, a NUL and an oversized one). */
function wrongValues(s: Schema): unknown[] {
  const types = new Set([s.type ?? [], ...(s.anyOf ?? []).map((a) => a.type ?? [])].flat());
  const out: unknown[] = [];
  if (!types.has('string')) out.push('a string', '');
  else out.push('x\u0000y', 'a'.repeat(300_000), '\ud800');
  if (!types.has('number') && !types.has('integer')) out.push(42, -1e308);
  else out.push(1e308, -1e308, 0.5);
  if (!types.has('boolean')) out.push(true);
  if (!types.has('array')) out.push([1, 'x', null]);
  else out.push(['x\u0000'], Array.from({ length: 50_000 }, () => 1));
  if (!types.has('object')) out.push({ nested: { deep: 1 } });
  out.push(null);
  return out;
}

function nested(depth: number): string {
  return `${'['.repeat(depth)}${']'.repeat(depth)}`;
}

for (const c of storeCases()) {
  describe(`fuzz: every route and the static server (${c.kind})`, { skip: c.skip }, () => {
    let api: TestApi;
    let taskId: string;
    let projectId: string;
    const agent = new Agent({ keepAlive: true, maxSockets: 4 });
    before(async () => {
      api = await startTestApi(c.kind);
      const p = await api.req('POST', '/api/projects', { path: makeRepo() });
      projectId = (p.body.project as { id: string }).id;
      const t = await api.req('POST', '/api/tasks', { title: 'fuzz target', project: projectId });
      taskId = (t.body.task as { id: string }).id;
    });
    after(async () => {
      agent.destroy();
      await api?.close();
    });

    function send(r: Req, timeoutMs = 5_000): Promise<Res> {
      const url = new URL(api.url);
      const token = r.token === undefined ? api.token : r.token;
      const body = r.body === undefined ? undefined : Buffer.isBuffer(r.body) ? r.body : Buffer.from(r.body);
      return new Promise((resolve, reject) => {
        const req = request(
          {
            host: url.hostname,
            port: url.port,
            method: r.method,
            path: r.path,
            agent,
            headers: {
              ...(token ? { Authorization: `Bearer ${token}` } : {}),
              ...(body ? { 'Content-Type': 'application/json', 'Content-Length': String(body.length) } : {}),
              ...(r.headers ?? {}),
            },
          },
          (res) => {
            const chunks: Buffer[] = [];
            // Event streams stay open: their status is all that matters here.
            const timer = setTimeout(() => {
              res.destroy();
              resolve({ status: res.statusCode ?? 0, body: '', headers: res.headers });
            }, timeoutMs);
            res.on('data', (ch: Buffer) => chunks.push(ch));
            res.on('end', () => {
              clearTimeout(timer);
              resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers });
            });
            res.on('error', () => {
              clearTimeout(timer);
              resolve({ status: res.statusCode ?? 0, body: '', headers: res.headers });
            });
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    }

    const TABLES = ['events', 'tasks', 'projects', 'tokens', 'factories', 'runs', 'leases', 'sessions', 'notifications', 'checkpoints'];
    /** Row counts, the newest event and the newest task change: any write moves one of them. */
    async function state(): Promise<string> {
      const counts = TABLES.map((t) => `(SELECT COUNT(*) FROM ${t}) AS ${t}`).join(', ');
      const r = await api.coordinator.store.db.get(`SELECT ${counts}, (SELECT MAX(id) FROM events) AS last_event, (SELECT MAX(updated_at) FROM tasks) AS task_change`);
      return JSON.stringify(r);
    }

    /** Every request, from the OpenAPI document and a list for the static server. */
    async function requests(): Promise<Req[]> {
      const doc = JSON.parse((await send({ method: 'GET', path: '/api/openapi.json', token: null })).body) as {
        paths: Record<string, Record<string, { parameters?: Array<{ name: string; in: string }>; requestBody?: { content: { 'application/json': { schema: Schema } } } }>>;
      };
      const out: Req[] = [];
      const fill = (template: string, value: (name: string) => string): string => template.replace(/\{(\w+)\}/g, (_, n: string) => value(n));
      const real = (template: string) => (n: string): string => (n === 'id' && /\/(tasks|fleet\/jobs)\//.test(template) ? taskId : n === 'id' && template.startsWith('/api/projects') ? projectId : 'nope');
      for (const [template, ops] of Object.entries(doc.paths)) {
        const methods = Object.keys(ops).map((m) => m.toUpperCase());
        // Unknown or unserved methods on every path.
        for (const m of ['PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE', 'PROPFIND'].filter((x) => !methods.includes(x))) {
          out.push({ method: m, path: fill(template, () => 'nope') });
        }
        for (const [m, op] of Object.entries(ops)) {
          const method = m.toUpperCase();
          const schema = op.requestBody?.content['application/json'].schema;
          const invalidBody = schema ? '[]' : undefined;
          // Bad path segments (with a body that is wrong anyway: nothing may change).
          if (template.includes('{')) {
            for (const seg of BAD_SEGMENTS) out.push({ method, path: fill(template, () => seg), ...(invalidBody ? { body: invalidBody } : {}) });
          }
          // No token, a wrong token.
          out.push({ method, path: fill(template, () => 'nope'), token: null });
          out.push({ method, path: fill(template, () => 'nope'), token: 'gnt_admin_wrong' });
          // Bad query values, one parameter at a time, plus an unknown and a repeated one. Writes use a bogus id.
          const at = method === 'GET' ? fill(template, real(template)) : fill(template, () => 'nope');
          const query = (op.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name);
          for (const q of query) for (const v of BAD_QUERY_VALUES) out.push({ method, path: `${at}?${q}=${v}`, ...(invalidBody ? { body: invalidBody } : {}) });
          for (const q of query.slice(0, 1)) out.push({ method, path: `${at}?${q}=1&${q}=2`, ...(invalidBody ? { body: invalidBody } : {}) });
          out.push({ method, path: `${at}?__fuzz=1`, ...(invalidBody ? { body: invalidBody } : {}) });
          if (!schema) continue;
          // Bodies against real ids: malformed, wrong shapes, wrong-typed fields, huge, nested, not UTF-8, not JSON.
          const target = fill(template, real(template));
          const bodies: Array<Buffer | string> = ['{"a":', '[]', 'null', '"s"', '42', 'true', nested(10_000), `{"a":${nested(5_000)}}`, Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]), '{"__fuzz\\u0000":1}', JSON.stringify({ x: 'a'.repeat(2 * 1024 * 1024) })];
          for (const [name, prop] of Object.entries(schema.properties ?? {})) for (const v of wrongValues(prop)) bodies.push(JSON.stringify({ [name]: v }));
          for (const b of bodies) out.push({ method, path: target, body: b });
          out.push({ method, path: target, body: '{"title":"x"}', headers: { 'Content-Type': 'text/plain' } });
          out.push({ method, path: target, body: 'title=x', headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
          out.push({ method, path: target, body: '{}', headers: { 'Content-Length': '99999999' } });
        }
      }
      // The static server.
      for (const p of ['/%', '/%E0%A4%A', '/%00', '/a%00b', '/index.html%00.js', '/%2e%2e/%2e%2e/etc/passwd', '/..%2f..%2fpackage.json', '/assets/..%2f..%2fpackage.json', '/assets/%2e%2e/%2e%2e/package.json', '/../../package.json', '//etc/passwd', '/.env', '/.git/config', '/assets/', '/assets', '/assets/missing-deadbeef.js', `/${'a'.repeat(6000)}`, '/tasks/t-1', '/?%']) {
        for (const method of ['GET', 'HEAD', 'POST', 'DELETE']) out.push({ method, path: p, token: null });
      }
      return out;
    }

    it('answers every fuzzed request without a 5xx, and changes nothing', async () => {
      const reqs = await requests();
      assert.ok(reqs.length > 1500, `a fuzz of ${reqs.length} requests is too small to mean much`);
      const before = await state();
      const fivexx: string[] = [];
      const changed: string[] = [];
      let last = before;
      let previous = '';
      for (const r of reqs) {
        const res = await send(r, /\/stream/.test(r.path) ? 1_000 : 10_000).catch((e: unknown) => ({ status: 0, body: `client error: ${(e as Error).message}`, headers: {} }));
        const what = `${r.method} ${r.path.slice(0, 120)} ${r.body ? String(r.body).slice(0, 60) : ''} → ${res.status} ${res.body.slice(0, 200)}`;
        if (res.status >= 500 || res.status === 0) fivexx.push(`${what}\n   (after ${previous})`);
        previous = what;
        // Whatever the request, a traversal never reaches files outside the dashboard.
        assert.ok(!/"name":\s*"gantry"|\[core\]|root:x:0/.test(res.body), `leaked a file: ${what}`);
        if (r.method === 'GET' && /^\/assets\/.*missing/.test(r.path)) assert.equal(res.status, 404, `a missing asset is a 404: ${what}`);
        if (!r.method.startsWith('G') && !r.method.startsWith('H') && !r.method.startsWith('O') && !r.method.startsWith('T')) {
          const now = await state();
          if (now !== last) changed.push(`${what}\n   ${last} → ${now}`);
          last = now;
        }
      }
      assert.deepEqual(fivexx, [], `5xx answers:\n${fivexx.join('\n')}`);
      assert.deepEqual(changed, [], `state changed:\n${changed.join('\n')}`);
      assert.deepEqual(await state(), before);
    });
  });
}
