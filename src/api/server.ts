// The HTTP surface: one node:http server, routes as data, every input validated before a handler runs.
// Maintained middleware does the generic work: security headers (helmet), compression, static files
// (send, in static.ts), failed-auth rate limiting (rate-limiter-flexible, in auth-limiter.ts).
// bench/api measures what this layer costs over a bare node:http handler.
// Shutdown stops accepting, ends event streams, and waits for in-flight requests (and their writes).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import compression from 'compression';
import helmet from 'helmet';
import { GantryError } from '../domain/errors.js';
import { allows } from '../domain/auth.js';
import type { TokenRepo, TokenRecord } from '../ports/store.js';
import type { Route } from './route.js';
import { Router } from './router.js';
import { errorBody, toGantryError, validationError } from './errors.js';
import { serveStatic, type StaticSite } from './static.js';
import type { Logger } from './logger.js';
import { findBadText, parseRequestTarget } from './request-target.js';
import { AuthLimiter, type AuthLimits } from './auth-limiter.js';
import type { HttpObserver } from './metrics.js';

export interface ApiServerOptions {
  routes: readonly Route[];
  tokens: Pick<TokenRepo, 'verify'>;
  logger: Logger;
  maxBodyBytes?: number;
  site?: StaticSite;
  /** Request durations and auth failures (Prometheus). */
  observer?: HttpObserver;
  authLimits?: AuthLimits;
}

export interface ApiServer {
  readonly server: Server;
  listen(port: number, host: string): Promise<{ port: number; host: string; url: string }>;
  close(): Promise<void>;
  readonly router: Router;
}

const DEFAULT_MAX_BODY = 1024 * 1024;
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

// The dashboard (every non-API answer) is one origin's own scripts and styles; it is never framed and loads nothing else.
const securityHeaders = helmet({
  contentSecurityPolicy: {
    useDefaults: false,
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'"],
      imgSrc: ["'self'", 'data:'],
      fontSrc: ["'self'"],
      connectSrc: ["'self'"],
      objectSrc: ["'none'"],
      baseUri: ["'none'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
    },
  },
  frameguard: { action: 'deny' },
  // Served over plain HTTP on a LAN too: TLS and HSTS belong to the proxy that terminates TLS.
  strictTransportSecurity: false,
  referrerPolicy: { policy: 'no-referrer' },
});

// API answers are JSON for programs, never pages: the few headers that matter for them (OWASP's REST
// set), precomputed, instead of helmet's full page set on every call.
const API_HEADERS: ReadonlyArray<[string, string]> = [
  ['Content-Security-Policy', "default-src 'none'; frame-ancestors 'none'"],
  ['X-Content-Type-Options', 'nosniff'],
  ['X-Frame-Options', 'DENY'],
  ['Referrer-Policy', 'no-referrer'],
];
const isApi = (url: string | undefined): boolean => url !== undefined && (url.startsWith('/api/') || url === '/api' || url.startsWith('/metrics'));

// Event streams must reach the browser as they are written, never held in a compressor's buffer.
const compress = compression({
  filter: (req, res) => !String(res.getHeader('Content-Type') ?? '').startsWith('text/event-stream') && compression.filter(req, res),
}) as unknown as (req: IncomingMessage, res: ServerResponse, next: () => void) => void;

export function createApiServer(opts: ApiServerOptions): ApiServer {
  const router = new Router(opts.routes);
  const maxBody = opts.maxBodyBytes ?? DEFAULT_MAX_BODY;
  const limiter = new AuthLimiter(opts.authLimits);
  const log = opts.logger.child?.({ component: 'http' }) ?? opts.logger;
  const inflight = new Set<Promise<void>>();
  const streams = new Set<AbortController>();
  let closing = false;

  const server = createServer((req, res) => {
    if (closing) {
      send(res, 503, errorBody(new GantryError('unavailable', 'the coordinator is shutting down', { hint: 'retry in a moment' })), { Connection: 'close' });
      return;
    }
    const started = performance.now();
    const seen: Seen = { route: 'unmatched', streaming: false };
    res.on('finish', () => {
      const seconds = (performance.now() - started) / 1000;
      const method = METHODS.has(req.method ?? '') ? req.method! : 'OTHER';
      log.info('http', { method, route: seen.route, status: res.statusCode, ms: Math.round(seconds * 1000) });
      if (!seen.streaming) opts.observer?.request({ method, route: seen.route, status: res.statusCode, seconds });
    });
    if (isApi(req.url)) for (const [k, v] of API_HEADERS) res.setHeader(k, v);
    else securityHeaders(req, res, () => undefined);
    compress(req, res, () => {
      const p = handle(req, res, seen).catch((e: unknown) => {
        log.error('request failed', { route: seen.route, err: e instanceof Error ? e : String(e) });
        if (!res.headersSent) send(res, 500, errorBody(toGantryError(e)));
        else res.end();
      });
      inflight.add(p);
      void p.finally(() => inflight.delete(p));
    });
  });
  server.requestTimeout = 0; // SSE streams are long-lived; body reads have their own limit.
  // Idle keep-alive sockets outlive every client's own idle timeout (undici: 4 s), so it is always the
  // client that closes one: a server closing first races a request written onto it (ECONNRESET, seen
  // on a loaded machine).
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 30_000;

  async function handle(req: IncomingMessage, res: ServerResponse, seen: Seen): Promise<void> {
    const target = parseRequestTarget(req.url);
    if (!target.ok) {
      skipBody(req, res);
      return send(res, 400, errorBody(new GantryError('bad_request', target.message, { hint: 'percent-encode the path and query as UTF-8, without control characters' })));
    }
    const { pathname } = target;
    const method = req.method ?? 'GET';
    const m = router.match(method, pathname);
    if (m === 'method_not_allowed') {
      skipBody(req, res);
      // Who may not call a path learns nothing about it, not even its methods: 401 before 405.
      if (router.routesAt(pathname).every((r) => r.access !== 'none')) {
        const refused = await authenticate(req, pathname, target.query);
        if (refused.status) return send(res, refused.status, errorBody(refused.error), refused.headers);
      }
      const allow = router.allowed(pathname).join(', ');
      return send(res, 405, errorBody(new GantryError('method_not_allowed', `${method} is not allowed on ${pathname}`, { hint: `use ${allow}; see /api/openapi.json` })), { Allow: allow });
    }
    if (!m) {
      skipBody(req, res);
      if (pathname === '/api' || pathname.startsWith('/api/')) {
        return send(res, 404, errorBody(new GantryError('not_found', `no route ${method} ${pathname}`, { hint: 'see /api/openapi.json' })));
      }
      if (!opts.site) return send(res, 404, errorBody(new GantryError('not_found', `no page at ${pathname}`, { hint: 'the API lives under /api' })));
      seen.route = 'static';
      if (method !== 'GET' && method !== 'HEAD') {
        return send(res, 405, errorBody(new GantryError('method_not_allowed', `${method} is not allowed on ${pathname}`, { hint: 'the dashboard is read with GET' })), { Allow: 'GET, HEAD' });
      }
      return serveStatic(opts.site, pathname, req, res, (miss) =>
        send(res, miss.status, errorBody(new GantryError(miss.status === 404 ? 'not_found' : 'bad_request', miss.message, { hint: miss.status === 404 ? 'open the dashboard at /' : 'request a plain path' }))),
      );
    }
    const { route } = m;
    seen.route = route.path;

    let auth: TokenRecord | null = null;
    if (route.access !== 'none') {
      const refused = await authenticate(req, pathname, target.query);
      if (refused.status) {
        skipBody(req, res);
        return send(res, refused.status, errorBody(refused.error), refused.headers);
      }
      auth = refused.token;
      if (!allows(auth.role, route.access)) {
        skipBody(req, res);
        return send(res, 403, errorBody(new GantryError('forbidden', 'this token may not do that', { hint: 'use a token with a role that allows it' })));
      }
    }

    try {
      const params = parseWith(route.params, m.params, 'path');
      const query = parseWith(route.query, queryObject(target.query), 'query');
      let body: unknown = undefined;
      let raw: Buffer | undefined;
      if (route.rawBody) {
        raw = await readRaw(req, maxBody);
      } else if (route.body) {
        const raw = await readJson(req, maxBody);
        const bad = findBadText(raw);
        if (bad) throw new GantryError('validation', `${bad.field}: ${bad.why}`, { field: bad.field, hint: 'send text as well-formed UTF-8 without NUL (\\u0000) characters' });
        body = parseWith(route.body, raw, 'body');
      } else {
        skipBody(req, res);
      }
      const ac = new AbortController();
      // Only a response that did not finish (a client gone, a stream ended by shutdown) aborts its handler.
      res.on('close', () => res.writableFinished || ac.abort());
      const out = await route.handler({ body, query, params, auth, req, res, signal: ac.signal, ...(raw ? { raw } : {}) });
      if (out === 'streaming') {
        seen.streaming = true;
        streams.add(ac);
        await new Promise<void>((resolve) => (res.writableFinished || res.destroyed ? resolve() : res.on('close', resolve)));
        streams.delete(ac);
        return;
      }
      if (out.text !== undefined) return sendText(res, out.status ?? 200, out.text, out.headers);
      send(res, out.status ?? 200, out.body, out.headers);
    } catch (e) {
      const ge = toGantryError(e);
      if (ge.code === 'internal') log.error('handler error', { route: `${route.method} ${route.path}`, err: e instanceof Error ? e : String(e) });
      // A body refused unread may still be arriving: close the connection instead of reading it all.
      if (ge.code === 'payload_too_large') return send(res, ge.status, errorBody(ge), { Connection: 'close' });
      skipBody(req, res);
      send(res, ge.status, errorBody(ge));
    }
  }

  type AuthResult = { status: 0; token: TokenRecord } | { status: 401 | 429; error: GantryError; headers: Record<string, string> };

  async function authenticate(req: IncomingMessage, pathname: string, query: URLSearchParams): Promise<AuthResult> {
    const h = req.headers.authorization;
    let secret = h?.startsWith('Bearer ') ? h.slice(7).trim() : '';
    // EventSource cannot set headers: the event stream also accepts ?access_token=.
    if (!secret && pathname.endsWith('/stream')) secret = query.get('access_token') ?? '';
    const unauthorized = (): AuthResult => ({ status: 401, error: new GantryError('unauthorized', 'missing or invalid token', { hint: 'send Authorization: Bearer <token>; the local admin token is in <home>/admin.token' }), headers: { 'WWW-Authenticate': 'Bearer' } });
    if (!secret) return unauthorized();
    const client = req.socket.remoteAddress ?? 'unknown';
    const key = limiter.keyOf(secret);
    const waitMs = await limiter.retryAfterMs(client, key);
    if (waitMs > 0) {
      opts.observer?.authFailure('rate_limited');
      const s = Math.ceil(waitMs / 1000);
      return { status: 429, error: new GantryError('rate_limited', 'too many failed authentications from this address', { hint: `check the token, then retry in ${s} s` }), headers: { 'Retry-After': String(s) } };
    }
    const token = (await opts.tokens.verify(secret)) ?? null;
    if (!token) {
      await limiter.failed(client);
      opts.observer?.authFailure('invalid');
      return unauthorized();
    }
    limiter.succeeded(key);
    return { status: 0, token };
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

/** What the request turned out to be, for its log line and its metrics. */
interface Seen {
  /** The route pattern (`/api/tasks/:id`), `static`, or `unmatched`: bounded, never the raw path. */
  route: string;
  streaming: boolean;
}

/** A body that will not be read: drained when small, else the connection closes after the answer. */
function skipBody(req: IncomingMessage, res: ServerResponse): void {
  if (req.complete) return;
  if (req.headers['transfer-encoding'] || Number(req.headers['content-length'] ?? 0) > 64 * 1024) res.setHeader('Connection', 'close');
  req.resume();
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

async function readRaw(req: IncomingMessage, max: number): Promise<Buffer> {
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
  return Buffer.concat(chunks);
}

async function readJson(req: IncomingMessage, max: number): Promise<unknown> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  const bytes = await readRaw(req, max);
  if (bytes.length === 0) return {};
  if (type !== 'application/json') {
    throw new GantryError('unsupported', `content-type must be application/json (got ${type || 'none'})`, { hint: 'send JSON with Content-Type: application/json' });
  }
  const text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
  let decoded: string;
  try {
    decoded = text.decode(bytes);
  } catch {
    throw new GantryError('bad_request', 'body is not valid UTF-8', { hint: 'send JSON encoded as UTF-8' });
  }
  try {
    return JSON.parse(decoded);
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

function sendText(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store', ...headers });
  res.end(text);
}
