import { z } from 'zod';
import { GantryError, notFound } from '../../domain/errors.js';
import type { Project, Store } from '../../ports/store.js';
import { registerProject, reloadProjectConfig } from '../../app/projects.js';
import { projectUsage } from '../../app/usage.js';
import { addRemoteProject } from '../../app/remote-project.js';
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
      summary: 'Register a project: a local git repository (`path`, idempotent on it) or a git remote with no clone (`remote`)',
      body: z
        .object({
          path: z.string().min(1).optional().describe('absolute path of a local clone'),
          remote: z.string().min(1).optional().describe('a git URL, or an absolute repository path treated exactly like a remote (no clone)'),
          name: z.string().min(1).max(100).regex(/^[\w.-]+$/, 'use letters, digits, dot, dash or underscore').optional(),
          defaultBranch: z.string().min(1).optional(),
        })
        .strict(),
      handler: async ({ body }) => {
        if (body.remote !== undefined) {
          if (body.path !== undefined) throw new GantryError('validation', 'pass either path or remote, not both', { field: 'remote', hint: 'path registers a clone; remote registers a project with no clone' });
          const project = await addRemoteProject(store, { remote: body.remote, name: body.name, defaultBranch: body.defaultBranch });
          return { status: 201, body: { project, created: true } };
        }
        if (body.path === undefined) throw new GantryError('validation', 'path or remote is required', { field: 'path', hint: 'pass the absolute path of a clone, or a git remote URL' });
        const { project, created } = await registerProject(store, { path: body.path, name: body.name, defaultBranch: body.defaultBranch });
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
