import { z } from 'zod';
import { notFound } from '../../domain/errors.js';
import type { Project, Store } from '../../ports/store.js';
import { registerProject, reloadProjectConfig } from '../../app/projects.js';
import { projectUsage } from '../../app/usage.js';
import { defineRoute, type Route } from '../route.js';

const IdParams = z.object({ id: z.string().min(1) }).strict();

/** A project by id or name, or the API's 404. */
export async function projectOr404(store: Store, idOrName: string): Promise<Project> {
  const p = await store.projects.get(idOrName);
  if (!p) throw notFound('project', idOrName, 'list projects with GET /api/projects');
  return p;
}

export function projectRoutes(store: Store): Route[] {
  return [
    defineRoute({
      method: 'POST',
      path: '/api/projects',
      access: 'act',
      tag: 'projects',
      summary: 'Register a local git repository as a project (idempotent on path)',
      body: z
        .object({
          path: z.string().min(1).describe('absolute path of the repository'),
          name: z.string().min(1).max(100).regex(/^[\w.-]+$/, 'use letters, digits, dot, dash or underscore').optional(),
          defaultBranch: z.string().min(1).optional(),
        })
        .strict(),
      handler: async ({ body }) => {
        const { project, created } = await registerProject(store, body);
        return { status: created ? 201 : 200, body: { project, created } };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/api/projects',
      access: 'read',
      tag: 'projects',
      summary: 'List projects',
      handler: async () => ({ body: { projects: await store.projects.list() } }),
    }),
    defineRoute({
      method: 'GET',
      path: '/api/projects/:id',
      access: 'read',
      tag: 'projects',
      summary: 'One project, by id or name, with its effective configuration',
      params: IdParams,
      handler: async ({ params }) => {
        return { body: { project: await projectOr404(store, params.id) } };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/api/projects/:id/usage',
      access: 'read',
      tag: 'projects',
      summary: "A project's tokens and cost over all its tasks' agent turns (costKnown: false when some turn's cost is unknown)",
      params: IdParams,
      handler: async ({ params }) => {
        const project = await projectOr404(store, params.id);
        const { total, tasks } = await projectUsage(store, project.id);
        return { body: { project: { id: project.id, name: project.name }, tasks, usage: total } };
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/api/projects/:id/reload',
      access: 'act',
      tag: 'projects',
      summary: "Re-read the project's gantry.yaml (a broken file changes nothing)",
      params: IdParams,
      handler: async ({ params }) => {
        return { body: { project: await reloadProjectConfig(store, await projectOr404(store, params.id)) } };
      },
    }),
  ];
}
