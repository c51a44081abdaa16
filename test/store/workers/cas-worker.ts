// A separate process that increments a task's priority N times by compare-and-set on rev.
import { openStore } from '../../../src/store/open.js';

const [target, taskId, n] = process.argv.slice(2) as [string, string, string];
const store = await openStore(target, { poolSize: 2 });
let conflicts = 0;
for (let i = 0; i < Number(n); i++) {
  for (;;) {
    const row = await store.db.get<{ priority: number; rev: number }>('SELECT priority, rev FROM tasks WHERE id = ?', [taskId]);
    const changed = await store.write(async (tx) => {
      const c = await tx.run('UPDATE tasks SET priority = ?, rev = rev + 1 WHERE id = ? AND rev = ?', [Number(row!.priority) + 1, taskId, Number(row!.rev)]);
      if (c === 1) tx.emit({ type: 'test.incremented', taskId });
      return c;
    });
    if (changed === 1) break;
    conflicts++;
  }
}
await store.close();
process.stdout.write(JSON.stringify({ conflicts }));
