import { z } from 'zod';
import { ROLES } from '../../domain/auth.js';
import type { Store } from '../../ports/store.js';
import { defineRoute, type Route } from '../route.js';

export function tokenRoutes(store: Store): Route[] {
  return [
    defineRoute({
      method: 'POST',
      path: '/api/tokens',
      access: 'admin',
      tag: 'tokens',
      summary: 'Create a token; the secret is returned once and stored only as a hash',
      body: z.object({ name: z.string().min(1).max(100), role: z.enum(ROLES.filter((r) => r !== 'factory') as ['admin', 'operator', 'viewer', 'metrics']) }).strict(),
      handler: async ({ body }) => {
        const { token, record } = await store.tokens.create(body);
        return { status: 201, body: { token, record } };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/api/tokens',
      access: 'admin',
      tag: 'tokens',
      summary: 'List tokens (never their secrets)',
      handler: async () => ({ body: { tokens: await store.tokens.list() } }),
    }),
    defineRoute({
      method: 'DELETE',
      path: '/api/tokens/:id',
      access: 'admin',
      tag: 'tokens',
      summary: 'Revoke a token',
      params: z.object({ id: z.string().min(1) }).strict(),
      handler: async ({ params }) => {
        await store.tokens.revoke(params.id);
        return { status: 204 };
      },
    }),
  ];
}
