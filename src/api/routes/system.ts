import { z } from 'zod';
import { defineRoute, type Route } from '../route.js';
import { openApiDocument } from '../openapi.js';

export function systemRoutes(deps: { version: string; allRoutes: () => readonly Route[]; storeKind: string }): Route[] {
  return [
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
}
