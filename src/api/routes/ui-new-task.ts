// What the dashboard's "New task" form offers: each project's pipelines (built-in and its own, with
// its default) and the registered agents. Validation stays the API's: the form posts to /api/tasks.
import { z } from 'zod';
import { agents } from '../../agents/registry.js';
import { BUILTIN_PIPELINES } from '../../app/submit.js';
import { validateConfig } from '../../config/project-config.js';
import type { Store } from '../../ports/store.js';
import { defineRoute, type Route } from '../route.js';

export interface NewTaskProject {
  id: string;
  name: string;
  pipelines: string[];
  defaultPipeline: string;
  defaultAgent: string;
}

export function newTaskOptionsRoute(store: Pick<Store, 'projects'>): Route {
  return defineRoute({
    method: 'GET',
    path: '/api/ui/new-task',
    access: 'read',
    tag: 'ui',
    summary: "The choices the dashboard's New task form offers: each project's pipelines and defaults, and the registered agents",
    query: z.object({}).strict(),
    handler: async () => {
      const projects: NewTaskProject[] = [];
      for (const p of await store.projects.list()) {
        let config;
        try {
          config = validateConfig(p.config);
        } catch {
          continue; // a project whose config no longer parses cannot take tasks; submit says why
        }
        projects.push({
          id: p.id,
          name: p.name,
          pipelines: [...new Set([...BUILTIN_PIPELINES, ...Object.keys(config.pipelines)])],
          defaultPipeline: config.defaults.pipeline,
          defaultAgent: config.defaults.agent,
        });
      }
      return { body: { projects, agents: [...agents.keys()] } };
    },
  });
}
