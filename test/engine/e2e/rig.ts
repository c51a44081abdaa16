// The real parts wired the way a factory runs them: store, fleet coordinator, factory runtime,
// workspace service over real git, the scripted agent as a real child process, git-remote SCM and
// the checks runner — with the pipeline engine as the factory's executor.
import { parseWorkspaceConfig } from '../../../src/config/workspace.js';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { pipelineEngine, type EngineParts, type EngineWiring } from '../../../src/app/engine.js';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { Factory } from '../../../src/fleet/factory.js';
import { LocalClient } from '../../../src/fleet/local-client.js';
import { FleetCoordinator, type FleetConfig } from '../../../src/fleet/coordinator.js';
import { CheckpointRepoSql } from '../../../src/store/checkpoint-repo.js';
import { FleetStoreSql } from '../../../src/store/fleet-repo.js';
import { SqliteOutbox } from '../../../src/store/fleet-outbox.js';
import type { SqlStore } from '../../../src/store/sql-store.js';
import { openStore } from '../../../src/store/open.js';
import { makeRepo } from '../../support/git.js';
import { freshDb, type TestDb } from '../../support/db.js';
import { WorkspaceService } from '../../../src/workspace/workspace-service.js';
import type { Project } from '../../../src/ports/store.js';
import type { Scm } from '../../../src/ports/engine.js';
import type { Amount } from '../../../src/domain/pipeline/budget.js';

export function fleet(store: SqlStore, config: Partial<FleetConfig> = {}): FleetCoordinator {
  return new FleetCoordinator({ fleet: new FleetStoreSql(store), tasks: store.tasks, projects: store.projects, tokens: store.tokens, events: store.events, config });
}

export type { EngineParts };

export function engineParts(
  store: SqlStore, home: string, factoryId: string,
  o: { scm?: (p: Project) => Scm; reserve?: Amount; stopHolder?: (taskId: string) => Promise<void>; lifecycle?: Pick<EngineWiring, 'sink' | 'sessions' | 'changes'> } = {},
): EngineParts {
  mkdirSync(home, { recursive: true });
  // The project's `workspace:` section applies (guard rules, as the composition root wires it).
  const configOf = async (projectId: string) => parseWorkspaceConfig((await store.projects.get(projectId))?.config.workspace ?? {});
  const workspaces = new WorkspaceService({ home, store, checkpoints: new CheckpointRepoSql(store), clock: { now: () => Date.now() }, configOf });
  return pipelineEngine({
    dir: home, workspaceHome: home, store, workspaces, factoryId, lightweight: true,
    // The lifecycle, when a test wants sessions, the change axis and reactions (as `gantry up` wires them).
    sink: o.lifecycle?.sink ?? { activity: () => undefined, runtime: () => undefined },
    ...(o.lifecycle?.sessions ? { sessions: o.lifecycle.sessions } : {}), ...(o.lifecycle?.changes ? { changes: o.lifecycle.changes } : {}),
    ...(o.scm ? { scm: o.scm } : {}), ...(o.reserve ? { reserve: o.reserve } : {}), ...(o.stopHolder ? { stopHolder: o.stopHolder } : {}),
  });
}

export function startFactory(c: FleetCoordinator, parts: EngineParts, home: string, factoryId: string, slots = 2): Factory {
  const f = new Factory({
    factoryId,
    capabilities: [],
    slots,
    client: new LocalClient(c, factoryId),
    executor: parts.executor,
    outbox: new SqliteOutbox(join(home, `${factoryId}.outbox.db`)),
    heartbeatMs: 200,
    pollMs: 200,
    renewEveryMs: 300,
    drainGraceMs: 10_000,
  });
  return f;
}

/** One factory process's worth of real parts over a fresh store and a fresh project repository. */
export interface Rig {
  db: TestDb;
  store: SqlStore;
  /** The project remote (a local repository with `main` checked out). */
  repo: string;
  /** A scratch directory; the factory lives in <home>/f1. */
  home: string;
  projectId: string;
  c: FleetCoordinator;
  parts: EngineParts;
  factory: Factory;
  stop(): Promise<void>;
}

export async function startRig(o: { kind: 'sqlite' | 'postgres'; files: Record<string, string>; yaml: string; slots?: number; home?: string }): Promise<Rig> {
  const db = await freshDb(o.kind);
  const store = await openStore(db.target, { pollMs: 100 });
  const repo = makeRepo(o.files);
  const home = o.home ?? mkdtempSync(join(tmpdir(), 'gantry-e2e-'));
  const projectId = (await addProject(store, 'demo', repo, o.yaml)).id;
  const c = fleet(store, { leaseTtlMs: 30_000, reapIntervalMs: 500 });
  c.start();
  const parts = engineParts(store, join(home, 'f1'), 'f1');
  const factory = startFactory(c, parts, join(home, 'f1'), 'f1', o.slots ?? 2);
  await factory.start();
  return {
    db, store, repo, home, projectId, c, parts, factory,
    async stop() {
      await factory.drain();
      await c.stop();
      await store.close();
      await db.dispose();
      rmSync(repo, { recursive: true, force: true });
      rmSync(home, { recursive: true, force: true });
    },
  };
}

export async function addProject(store: SqlStore, name: string, repo: string, yaml: string): Promise<Project> {
  return store.projects.create({ name, path: repo, defaultBranch: 'main', config: parseYaml(yaml) as Record<string, unknown> });
}

/** Polls `check` until it returns a value, or fails with what it waited for. */
export async function until<T>(check: () => Promise<T | undefined | false> | T | undefined | false, what: string, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
