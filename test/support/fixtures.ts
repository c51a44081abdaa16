// Small builders shared by tests.
import type { NewTask, Store } from '../../src/ports/store.js';

export async function project(store: Store, name = 'demo'): Promise<string> {
  const p = await store.projects.create({ name, path: '/tmp/does-not-matter', defaultBranch: 'main', config: {} });
  return p.id;
}

export const newTask = (projectId: string, over: Partial<NewTask> = {}): NewTask => ({
  projectId,
  title: 'a task',
  body: 'do the thing',
  pipeline: 'standard',
  agent: null,
  priority: 0,
  capabilities: [],
  after: [],
  idempotencyKey: null,
  maxAttempts: 3,
  ...over,
});
