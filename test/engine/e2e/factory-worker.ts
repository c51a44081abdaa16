// A factory process for crash tests: its own fleet coordinator (short leases) and engine over the
// shared store. GANTRY_TEST_CRASH_AFTER_MERGE=1 makes it SIGKILL itself right after the irreversible
// ref update — the most dangerous instant for "merged twice".
import { openStore } from '../../../src/store/open.js';
import { scmFor } from '../../../src/scm/registry.js';
import type { Scm } from '../../../src/ports/engine.js';
import type { Project } from '../../../src/ports/store.js';
import { engineParts, fleet, startFactory } from './rig.js';

const [target, home, factoryId] = process.argv.slice(2) as [string, string, string];
const store = await openStore(target, { pollMs: 100 });
const c = fleet(store, { leaseTtlMs: 1500, staleMs: 1500, reapIntervalMs: 200 });
c.start();
const crashAfterMerge = process.env.GANTRY_TEST_CRASH_AFTER_MERGE === '1';
// The production SCM (the factory's own mirror, landing with a compare-and-set push to the project).
const scm = (project: Project): Scm => {
  const real = scmFor({ home, project });
  if (!crashAfterMerge) return real;
  return Object.assign(Object.create(real) as Scm, {
    merge: async (...args: Parameters<Scm['merge']>) => {
      const r = await real.merge(...args);
      process.kill(process.pid, 'SIGKILL');
      return r;
    },
  });
};
const parts = engineParts(store, home, factoryId, { scm });
const f = startFactory(c, parts, home, factoryId, 2);
await f.start();
process.stdout.write('ready\n');
