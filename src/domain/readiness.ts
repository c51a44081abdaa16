// Is this coordinator ready for traffic? Pure: the facts are gathered by the caller.
export interface ReadinessFacts {
  /** The store answered, with its schema version; or the error it gave. */
  store: { ok: true; schemaVersion: number } | { ok: false; error: string };
  /** The newest migration this build knows. */
  knownSchemaVersion: number;
  /** In-process factories this coordinator runs, and how many of them heartbeat within the stale window. */
  localFactories: { expected: number; live: number };
  shuttingDown: boolean;
}

export interface ReadinessCheck {
  name: 'store' | 'migrations' | 'factories' | 'shutdown';
  ok: boolean;
  detail: string;
}

export interface Readiness {
  ready: boolean;
  checks: ReadinessCheck[];
}

export function decideReadiness(f: ReadinessFacts): Readiness {
  const checks: ReadinessCheck[] = [];
  checks.push(f.store.ok ? { name: 'store', ok: true, detail: 'reachable' } : { name: 'store', ok: false, detail: `unreachable: ${f.store.error}` });
  if (f.store.ok) {
    const v = f.store.schemaVersion;
    const k = f.knownSchemaVersion;
    checks.push(
      v === k
        ? { name: 'migrations', ok: true, detail: `schema v${v}` }
        : { name: 'migrations', ok: false, detail: v < k ? `schema v${v}, this build needs v${k}` : `schema v${v} is newer than this build (v${k}): upgrade Gantry` },
    );
  }
  const lf = f.localFactories;
  checks.push(
    lf.expected === 0
      ? { name: 'factories', ok: true, detail: 'none in process' }
      : lf.live > 0
        ? { name: 'factories', ok: true, detail: `${lf.live}/${lf.expected} in-process live` }
        : { name: 'factories', ok: false, detail: `none of ${lf.expected} in-process factories is live yet` },
  );
  if (f.shuttingDown) checks.push({ name: 'shutdown', ok: false, detail: 'shutting down' });
  return { ready: checks.every((c) => c.ok), checks };
}
