// Submits tasks forever until killed; prints a line after each commit so the parent knows it is mid-stream.
import { openStore } from '../../../src/store/open.js';

const [target, projectId] = process.argv.slice(2) as [string, string];
const store = await openStore(target, { poolSize: 2 });
for (let i = 0; ; i++) {
  await store.tasks.submit({ projectId, title: `t${i}`, body: 'b', pipeline: 'standard', agent: null, priority: 0, capabilities: [], after: [], idempotencyKey: null, maxAttempts: 3 });
  process.stdout.write('.');
}
