// The HTTP surface: one node:http server, routes as data, every input validated before a handler runs.
// Shutdown stops accepting, ends event streams, and waits for in-flight requests (and their writes).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GantryError } from '../domain/errors.js';
import { allows } from '../domain/auth.js';
import type { TokenRepo, TokenRecord } from '../ports/store.js';
import type { Route } from './route.js';
import { Router } from './router.js';
import { errorBody, toGantryError, validationError } from './errors.js';
import { serveStatic, type StaticSite } from './static.js';
import type { Logger } from './logger.js';

export interface ApiServerOptions {
  routes: readonly Route[];
  tokens: Pick<TokenRepo, 'verify'>;
  logger: Logger;
  maxBodyBytes?: number;
  site?: StaticSite;
}

export interface ApiServer {
  readonly server: Server;
  listen(port: number, host: string): Promise<{ port: number; host: string; url: string }>;
  close(): Promise<void>;
  readonly router: Router;
}

const DEFAULT_MAX_BODY = 1024 * 1024;

export function createApiServer(opts: ApiServerOptions): ApiServer {
  const router = new Router(opts.routes);
  const maxBody = opts.maxBodyBytes ?? DEFAULT_MAX_BODY;
  const inflight = new Set<Promise<void>>();
  const streams = new Set<AbortController>();
  let closing = false;

  const server = createServer((req, res) => {
    if (closing) {
      send(res, 503, errorBody(new GantryError('conflict', 'the coordinator is shutting down', { hint: 'retry in a moment' })), { Connection: 'close' });
      return;
    }
    const p = handle(req, res).catch((e) => {
      opts.logger.error('request failed', { err: String(e) });
      if (!res.headersSent) send(res, 500, errorBody(toGantryError(e)));
      else res.end();
    });
    inflight.add(p);
    void p.finally(() => inflight.delete(p));
  });
  server.requestTimeout = 0; // SSE streams are long-lived; body reads have their own limit.
  server.headersTimeout = 30_000;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const url = new URL(req.url ?? '/', 'http://localhost');
    res.on('finish', () => {
      opts.logger.info('http', { method: req.method, path: url.pathname, status: res.statusCode, ms: Math.round(performance.now() - started) });
    });
    if (!url.pathname.startsWith('/api/') && url.pathname !== '/api') {
      if (opts.site && (req.method === 'GET' || req.method === 'HEAD')) return serveStatic(opts.site, url.pathname, req, res);
      return send(res, 404, errorBody(new GantryError('not_found', `no page at ${url.pathname}`, { hint: 'the API lives under /api' })));
    }
    const m = router.match(req.method ?? 'GET', url.pathname);
    if (m === 'method_not_allowed') {
      return send(res, 405, errorBody(new GantryError('bad_request', `${req.method} is not allowed on ${url.pathname}`, { hint: 'see /api/openapi.json' })));
    }
    if (!m) return send(res, 404, errorBody(new GantryError('not_found', `no route ${req.method} ${url.pathname}`, { hint: 'see /api/openapi.json' })));
    const { route } = m;

    let auth: TokenRecord | null = null;
    if (route.access !== 'none') {
      auth = await authenticate(req, url);
      if (!auth) {
        return send(res, 401, errorBody(new GantryError('unauthorized', 'missing or invalid token', { hint: 'send Authorization: Bearer <token>; the local admin token is in <home>/admin.token' })), {
          'WWW-Authenticate': 'Bearer',
        });
      }
      if (!allows(auth.role, route.access)) {
        return send(res, 403, errorBody(new GantryError('forbidden', 'this token may not do that', { hint: 'use a token with a role that allows it' })));
      }
    }

    try {
      const params = parseWith(route.params, m.params, 'path');
      const query = parseWith(route.query, queryObject(url.searchParams), 'query');
      let body: unknown = undefined;
      if (route.body) {
        const raw = await readJson(req, maxBody);
        body = parseWith(route.body, raw, 'body');
      } else {
        req.resume();
      }
      const ac = new AbortController();
      res.on('close', () => ac.abort());
      const out = await route.handler({ body, query, params, auth, req, res, signal: ac.signal });
      if (out === 'streaming') {
        streams.add(ac);
        await new Promise<void>((resolve) => res.on('close', resolve));
        streams.delete(ac);
        return;
      }
      send(res, out.status ?? 200, out.body, out.headers);
    } catch (e) {
      const ge = toGantryError(e);
      if (ge.code === 'internal') opts.logger.error('handler error', { route: `${route.method} ${route.path}`, err: e instanceof Error ? e.stack : String(e) });
      send(res, ge.status, errorBody(ge));
    }
  }

  async function authenticate(req: IncomingMessage, url: URL): Promise<TokenRecord | null> {
    const h = req.headers.authorization;
    let secret = h?.startsWith('Bearer ') ? h.slice(7).trim() : '';
    // EventSource cannot set headers: the event stream also accepts ?access_token=.
    if (!secret && url.pathname.endsWith('/stream')) secret = url.searchParams.get('access_token') ?? '';
    if (!secret) return null;
    return (await opts.tokens.verify(secret)) ?? null;
  }

  return {
    server,
    router,
    listen: (port, host) =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          const a = server.address() as AddressInfo;
          const shownHost = a.address.includes(':') ? `[${a.address}]` : a.address;
          resolve({ port: a.port, host: a.address, url: `http://${shownHost}:${a.port}` });
        });
      }),
    close: async () => {
      closing = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of streams) s.abort();
      server.closeIdleConnections();
      await Promise.allSettled([...inflight]);
      server.closeAllConnections();
      await closed;
    },
  };
}

function parseWith(schema: Route['body'], value: unknown, where: 'body' | 'query' | 'path'): unknown {
  if (!schema) return undefined;
  const r = schema.safeParse(value);
  if (!r.success) throw validationError(where, r.error, schema);
  return r.data;
}

function queryObject(sp: URLSearchParams): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of sp) {
    if (k === 'access_token') continue;
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

async function readJson(req: IncomingMessage, max: number): Promise<unknown> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > max) {
    req.resume();
    throw new GantryError('payload_too_large', `body is ${declared} bytes; the limit is ${max}`, { hint: 'send a smaller body' });
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) {
      req.resume();
      throw new GantryError('payload_too_large', `body exceeds the ${max}-byte limit`, { hint: 'send a smaller body' });
    }
    chunks.push(chunk);
  }
  if (size === 0) return {};
  if (type !== 'application/json') {
    throw new GantryError('unsupported', `content-type must be application/json (got ${type || 'none'})`, { hint: 'send JSON with Content-Type: application/json' });
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (e) {
    throw new GantryError('bad_request', `body is not valid JSON: ${(e as Error).message}`, { hint: 'send a well-formed JSON object' });
  }
}

export function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) return;
  if (body === undefined || status === 204) {
    res.writeHead(status, headers);
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store', ...headers });
  res.end(text);
}
