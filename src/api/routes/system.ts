import { z } from 'zod';
import { defineRoute, type Route } from '../route.js';
import { openApiDocument } from '../openapi.js';
import type { Readiness } from '../../domain/readiness.js';

export interface SystemDeps {
  version: string;
  allRoutes: () => readonly Route[];
  storeKind: string;
  /** Readiness facts, decided (store, migrations, in-process factories). */
  ready?: () => Promise<Readiness>;
  /** The Prometheus exposition. */
  metrics?: { contentType: string; render(): Promise<string> };
}

export function systemRoutes(deps: SystemDeps): Route[] {
  const routes: Route[] = [
    defineRoute({
      method: 'GET',
      path: '/api/health',
      access: 'none',
      tag: 'system',
      summary: 'Liveness: 200 while the coordinator serves requests',
      handler: async () => ({ body: { ok: true, version: deps.version, store: deps.storeKind } }),
    }),
    defineRoute({
      method: 'GET',
      path: '/api/openapi.json',
      access: 'none',
      tag: 'system',
      summary: 'This API as an OpenAPI 3.1 document',
      handler: async () => ({ body: openApiDocument(deps.allRoutes(), deps.version) }),
    }),
    defineRoute({
      method: 'GET',
      path: '/api/whoami',
      access: 'read',
      tag: 'system',
      summary: 'The presented token: name and role',
      query: z.object({}).strict(),
      handler: async ({ auth }) => ({ body: { id: auth?.id, name: auth?.name, role: auth?.role } }),
    }),
  ];
  const { ready, metrics } = deps;
  if (ready) {
    routes.push(
      defineRoute({
        method: 'GET',
        path: '/api/ready',
        access: 'none',
        tag: 'system',
        summary: 'Readiness: 200 when the store answers, its schema is current and in-process factories are live; 503 with the failing checks otherwise',
        query: z.object({}).strict(),
        handler: async () => {
          const r = await ready();
          return { status: r.ready ? 200 : 503, body: r };
        },
      }),
    );
  }
  if (metrics) {
    routes.push(
      defineRoute({
        method: 'GET',
        path: '/metrics',
        access: 'metrics',
        tag: 'system',
        summary: 'Prometheus metrics (text exposition format); any token with the metrics permission, e.g. a `metrics` token',
        query: z.object({}).strict(),
        responseDescription: 'Prometheus text format 0.0.4',
        handler: async () => ({ text: await metrics.render(), headers: { 'Content-Type': metrics.contentType } }),
      }),
    );
  }
  return routes;
}
