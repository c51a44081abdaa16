// The hardened HTTP surface against a real coordinator: failed-auth rate limiting, 405 with Allow,
// oversized bodies, NUL bytes, compression and caching headers, readiness; the CLI reading its
// token from a file; and `gantry up` logging JSON to stdout as a service.
import { after, before, describe, it } from 'node:test';
import { spawn } from 'node:child_process';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { request } from 'node:http';
import { startTestApi, type TestApi } from '../support/api.js';
import { makeRepo } from '../support/git.js';
import { GANTRY_BIN, gantry } from '../support/cli.js';


const WEB_BUILT = existsSync(new URL('../../web/dist/index.html', import.meta.url));

function raw(url: string, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('hardened HTTP (sqlite)', () => {
  let api: TestApi;
  before(async () => {
    api = await startTestApi('sqlite');
  });
  after(async () => api?.close());

  it('rate limits wrong tokens per address with 429 + Retry-After; known tokens and token-less requests are unaffected', async () => {
    const before = await api.coordinator.store.events.latestSeq();
    assert.equal((await api.req('GET', '/api/whoami')).status, 200, 'the admin token works once before the storm');
    for (let i = 0; i < 5; i++) assert.equal((await api.req('GET', '/api/tasks', undefined, { token: null })).status, 401, 'no token: a plain 401, not counted');
    const statuses: number[] = [];
    for (let i = 0; i < 31; i++) statuses.push((await api.req('GET', '/api/tasks', undefined, { token: `gnt_admin_wrong${i}` })).status);
    assert.deepEqual(statuses, Array.from({ length: 31 }, () => 401), 'thirty wrong tokens, then…');
    const limited = await fetch(`${api.url}/api/tasks`, { headers: { Authorization: 'Bearer gnt_admin_wrong-again' } });
    assert.equal(limited.status, 429);
    assert.ok(Number(limited.headers.get('retry-after')) >= 1);
    assert.match(((await limited.json()) as { error: { message: string; hint: string } }).error.message, /too many failed authentications/);
    assert.equal((await api.req('GET', '/api/tasks')).status, 200, 'the admin token that worked before still works');
    const scrape = await (await fetch(`${api.url}/metrics`, { headers: { Authorization: `Bearer ${api.token}` } })).text();
    assert.match(scrape, /gantry_http_auth_failures_total\{outcome="invalid"\} 31/);
    assert.match(scrape, /gantry_http_auth_failures_total\{outcome="rate_limited"\} 1/);
    assert.equal(await api.coordinator.store.events.latestSeq(), before);
  });

  it('405 with Allow for a method a path does not serve', async () => {
    const r = await raw(api.url, 'DELETE', '/api/tasks', { Authorization: `Bearer ${api.token}` });
    assert.equal(r.status, 405);
    assert.equal(r.headers.allow, 'GET, POST');
    const s = await raw(api.url, 'POST', '/index.html');
    assert.equal(s.status, 405);
    assert.equal(s.headers.allow, 'GET, HEAD');
  });

  it('an oversized body is a 413 and the connection closes; a NUL in a body is a 400 naming the field', async () => {
    const big = await raw(api.url, 'POST', '/api/tasks', { Authorization: `Bearer ${api.token}`, 'Content-Type': 'application/json', 'Content-Length': '5000000' }, '{}');
    assert.equal(big.status, 413);
    assert.equal(big.headers.connection, 'close');
    const p = await api.req('POST', '/api/projects', { path: makeRepo() });
    const nul = await api.req('POST', '/api/tasks', { title: 'a\u0000b', project: (p.body.project as { id: string }).id });
    assert.equal(nul.status, 400);
    assert.equal((nul.body.error as { field: string }).field, 'body.title');
  });

  it('compresses large JSON answers on request, never event streams', async () => {
    const p = await api.req('GET', '/api/projects');
    const projectId = ((p.body.projects as Array<{ id: string }>)[0]!).id;
    for (let i = 0; i < 20; i++) await api.req('POST', '/api/tasks', { title: `compress me ${i}`, project: projectId });
    const r = await raw(api.url, 'GET', '/api/tasks?limit=100', { Authorization: `Bearer ${api.token}`, 'Accept-Encoding': 'gzip' });
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-encoding'], 'gzip');
    assert.equal(r.headers['cache-control'], 'no-store');
    assert.equal(r.headers['content-security-policy'], "default-src 'none'; frame-ancestors 'none'");
    assert.equal(r.headers['x-content-type-options'], 'nosniff');
    assert.equal(r.headers['x-frame-options'], 'DENY');
    assert.ok((JSON.parse(gunzipSync(r.body).toString()) as { tasks: unknown[] }).tasks.length >= 20);
    const ac = new AbortController();
    const sse = await fetch(`${api.url}/api/events/stream?after=0`, { headers: { Authorization: `Bearer ${api.token}`, 'Accept-Encoding': 'gzip, br' }, signal: ac.signal });
    assert.equal(sse.headers.get('content-encoding'), null);
    ac.abort();
  });

  it('serves dashboard files with validators, conditional GETs and ranges', { skip: WEB_BUILT ? false : 'the dashboard is not built' }, async () => {
    const first = await raw(api.url, 'GET', '/index.html');
    assert.equal(first.status, 200);
    assert.equal(first.headers['cache-control'], 'no-cache');
    const etag = String(first.headers.etag);
    assert.ok(first.headers['last-modified']);
    assert.equal((await raw(api.url, 'GET', '/index.html', { 'If-None-Match': etag })).status, 304);
    const part = await raw(api.url, 'GET', '/index.html', { Range: 'bytes=0-9' });
    assert.equal(part.status, 206);
    assert.equal(part.body.length, 10);
    const head = await raw(api.url, 'HEAD', '/index.html');
    assert.equal(head.status, 200);
    assert.equal(head.body.length, 0);
  });

  it('/api/ready needs no token and says what it checked', async () => {
    const r = await api.req('GET', '/api/ready', undefined, { token: null });
    assert.equal(r.status, 200);
    assert.deepEqual((r.body.checks as Array<{ name: string }>).map((c) => c.name), ['store', 'migrations', 'factories']);
  });
});

describe('the CLI reads its token from a file', () => {
  let api: TestApi;
  let dir: string;
  before(async () => {
    api = await startTestApi('sqlite');
    dir = mkdtempSync(join(tmpdir(), 'gantry-tokfile-'));
  });
  after(async () => {
    await api?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('--token-file and GANTRY_TOKEN_FILE work; a missing file is a one-line error', async () => {
    const file = join(dir, 'token');
    writeFileSync(file, `${api.token}\n`, { mode: 0o600 });
    const home = join(dir, 'empty-home');
    const a = await gantry(['ls', '--json', '--url', api.url, '--token-file', file, '--home', home]);
    assert.equal(a.code, 0, a.stderr);
    assert.ok(JSON.parse(a.stdout));
    const b = await gantry(['ls', '--json', '--url', api.url, '--home', home], { env: { GANTRY_TOKEN_FILE: file } });
    assert.equal(b.code, 0, b.stderr);
    const c = await gantry(['ls', '--url', api.url, '--token-file', join(dir, 'nope'), '--home', home]);
    assert.equal(c.code, 2);
    assert.match(c.stderr, /^gantry: --token-file: .*nope does not exist — /);
    assert.equal(c.stderr.trim().split('\n').length, 1);
  });
});

describe('gantry up logging to stdout (a service under systemd)', () => {
  it('writes only JSON lines on stdout, the banner on stderr, and stops cleanly on SIGTERM', async () => {
    const home = mkdtempSync(join(tmpdir(), 'gantry-stdout-'));
    // JOURNAL_STREAM is how systemd tells a service that journald reads its stdout: no --log needed.
    const child = spawn(process.execPath, [GANTRY_BIN, 'up', '--home', home, '--port', '0', '--factories', '0'], {
      env: { ...process.env, GANTRY_LOG: '', JOURNAL_STREAM: '8:12345', GANTRY_URL: '', GANTRY_TOKEN: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    try {
      const deadline = Date.now() + 30_000;
      while (!stdout.includes('"coordinator up"') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      assert.match(stderr, /Gantry is up on embedded SQLite/);
      child.kill('SIGTERM');
      assert.equal(await exited, 0, stderr);
      const lines = stdout.trim().split('\n');
      const parsed = lines.map((l) => JSON.parse(l) as { level: string; msg: string; time: string });
      assert.ok(parsed.some((l) => l.msg === 'coordinator up' && l.level === 'info' && !Number.isNaN(Date.parse(l.time))));
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
      rmSync(home, { recursive: true, force: true });
    }
  });
});
