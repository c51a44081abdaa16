// A route is data: method, path, who may call it, schemas for every input, and a handler.
// The server validates before the handler runs, so handlers only ever see typed, checked input.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { z } from 'zod';
import type { Permission } from '../domain/auth.js';
import type { TokenRecord } from '../ports/store.js';

export type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

/** `none`: no token needed (health, OpenAPI) or the route authenticates itself (agent hooks). */
export type Access = Permission | 'none';

export interface Reply {
  status?: number;
  /** Sent as JSON. */
  body?: unknown;
  /** Sent as is (text/plain unless `headers` says otherwise), instead of `body`. */
  text?: string;
  headers?: Record<string, string>;
}

export interface RouteContext<B, Q, P> {
  body: B;
  query: Q;
  params: P;
  auth: TokenRecord | null;
  req: IncomingMessage;
  res: ServerResponse;
  /** Aborted when the client disconnects or the server shuts down. */
  signal: AbortSignal;
  /** The body's exact bytes, only for a route with `rawBody: true` (a signature is over these bytes). */
  raw?: Buffer;
}

type Out<S> = S extends z.ZodType ? z.output<S> : undefined;

export interface RouteSpec<B extends z.ZodType | undefined, Q extends z.ZodType | undefined, P extends z.ZodType | undefined> {
  method: Method;
  path: string;
  access: Access;
  summary: string;
  tag: string;
  body?: B;
  query?: Q;
  params?: P;
  /** For OpenAPI only. */
  responseDescription?: string;
  /** Read the body as bytes (size-limited, not parsed) and hand them to the handler as `raw`: for a route
   *  that must verify a signature over the exact bytes before trusting them (forge webhooks). */
  rawBody?: boolean;
  /** Return a reply, or `'streaming'` when the handler owns `res` (SSE). */
  handler(ctx: RouteContext<Out<B>, Out<Q>, Out<P>>): Promise<Reply | 'streaming'>;
}

export interface Route {
  method: Method;
  path: string;
  access: Access;
  summary: string;
  tag: string;
  body: z.ZodType | undefined;
  query: z.ZodType | undefined;
  params: z.ZodType | undefined;
  responseDescription: string | undefined;
  rawBody: boolean;
  handler(ctx: RouteContext<unknown, unknown, unknown>): Promise<Reply | 'streaming'>;
}

export function defineRoute<B extends z.ZodType | undefined = undefined, Q extends z.ZodType | undefined = undefined, P extends z.ZodType | undefined = undefined>(
  spec: RouteSpec<B, Q, P>,
): Route {
  return {
    method: spec.method,
    path: spec.path,
    access: spec.access,
    summary: spec.summary,
    tag: spec.tag,
    body: spec.body,
    query: spec.query,
    params: spec.params,
    responseDescription: spec.responseDescription,
    rawBody: spec.rawBody ?? false,
    handler: spec.handler as Route['handler'],
  };
}
