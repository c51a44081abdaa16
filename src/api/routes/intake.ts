// Issue intake on demand: `POST /api/projects/:id/issues/sync` takes the project's labelled forge
// issues in as tasks and echoes finished tasks back to their issues (src/app/issue-intake.ts).
import { z } from 'zod';
import type { IntakeReport } from '../../app/issue-intake.js';
import type { Project, Store } from '../../ports/store.js';
import { defineRoute, type Route } from '../route.js';
import { projectOr404 } from './projects.js';

export interface IntakeDeps {
  sync(project: Project): Promise<IntakeReport>;
}

export function intakeRoutes(store: Store, deps: IntakeDeps): Route[] {
  return [
    defineRoute({
      method: 'POST',
      path: '/api/projects/:id/issues/sync',
      access: 'act',
      tag: 'projects',
      summary: "Take the project's labelled forge issues in as tasks (idempotent on the issue) and echo finished tasks back to their issues",
      params: z.object({ id: z.string().min(1) }).strict(),
      handler: async ({ params }) => ({ body: await deps.sync(await projectOr404(store, params.id)) }),
    }),
  ];
}
