// A factory process for crash tests: its own fleet coordinator (short leases) and engine over the
// shared store. GANTRY_TEST_CRASH_AFTER_MERGE=1 makes it SIGKILL itself right after the irreversible
// ref update — the most dangerous instant for "merged twice".
import { openStore } from '../../../src/store/open.js';
import { LocalGitScm } from '../../../src/scm/local-git.js';
import type { Scm } from '../../../src/ports/engine.js';
import { engineParts, fleet, startFactory } from './rig.js';

const [target, home, factoryId] = process.argv.slice(2) as [string, string, string];
const store = await openStore(target, { pollMs: 100 });
const c = fleet(store, { leaseTtlMs: 1500, staleMs: 1500, reapIntervalMs: 200 });
c.start();
const crashAfterMerge = process.env.GANTRY_TEST_CRASH_AFTER_MERGE === '1';
const scm = (path: string): Scm => {
  const real = new LocalGitScm(path);
  if (!crashAfterMerge) return real;
  return Object.assign(Object.create(real) as Scm, {
    merge: async (...args: Parameters<Scm['merge']>) => {
      const r = await real.merge(...args);
      process.kill(process.pid, 'SIGKILL');
      return r;
    },
  });
};
const parts = engineParts(store, home, factoryId, { scm: (p) => scm(p.path) });
const f = startFactory(c, parts, home, factoryId, 2);
await f.start();
process.stdout.write('ready\n');
