// `gantry up` in-process, the way users run it: a real coordinator with its lifecycle, notification
// service, workspace upkeep and one in-process factory running the pipeline engine, on either store.
// Tests act through the HTTP API and read the store, the lifecycle and the repository.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCoordinator, type Coordinator } from '../../../src/app/coordinator.js';
import { resolveHome } from '../../../src/app/home.js';
import { silentLogger } from '../../../src/api/logger.js';
import type { Task } from '../../../src/domain/task.js';
import type { RunSnapshot } from '../../../src/ports/engine.js';
import { RunRepoSql } from '../../../src/store/run-repo.js';
import { freshDb, type TestDb } from '../../support/db.js';
import { git, makeRepo } from '../../support/git.js';
import { until } from './rig.js';

export { until };

export interface Gantry {
  coordinator: Coordinator;
  home: string;
  req(method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }>;
  /** A repository with these files and gantry.yaml, registered as a project; returns its id and path. */
  project(yaml: string, files?: Record<string, string>): Promise<{ id: string; repo: string }>;
  submit(body: Record<string, unknown>): Promise<Task>;
  task(id: string): Promise<Task>;
  run(id: string): Promise<RunSnapshot | undefined>;
  /** Waits until the task reaches one of these stages. */
  settle(id: string, stages?: string[], timeoutMs?: number): Promise<Task>;
  eventTypes(taskId: string): Promise<string[]>;
  close(): Promise<void>;
}

export async function startGantry(kind: 'sqlite' | 'postgres', o: { workspaceSweepMs?: number; home?: string; db?: TestDb } = {}): Promise<Gantry> {
  const db = o.db ?? (await freshDb(kind));
  const homeDir = o.home ?? mkdtempSync(join(tmpdir(), 'gantry-promises-'));
  const coordinator = await startCoordinator({
    home: resolveHome(homeDir),
    port: 0,
    host: '127.0.0.1',
    database: kind === 'postgres' ? db.target : join(homeDir, 'gantry.db'),
    factories: 1,
    logger: silentLogger,
    pollMs: 200,
    fleet: { heartbeatMs: 500 },
    ...(o.workspaceSweepMs ? { workspaceSweepMs: o.workspaceSweepMs } : {}),
  });
  const runs = new RunRepoSql(coordinator.store);
  const repos: string[] = [];
  const req: Gantry['req'] = async (method, path, body) => {
    const res = await fetch(`${coordinator.url}${path}`, {
      method,
      headers: { Authorization: `Bearer ${coordinator.adminToken}`, ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  };
  const task = async (id: string): Promise<Task> => (await coordinator.store.tasks.get(id))!;
  return {
    coordinator,
    home: homeDir,
    req,
    async project(yaml, files = {}) {
      const repo = makeRepo({ 'README.md': '# sample\n', ...files });
      writeFileSync(join(repo, 'gantry.yaml'), yaml);
      git(repo, 'add', '-A');
      git(repo, 'commit', '-qm', 'gantry.yaml');
      repos.push(repo);
      const r = await req('POST', '/api/projects', { path: repo });
      if (r.status >= 300) throw new Error(`project not registered: ${JSON.stringify(r.body)}`);
      return { id: (r.body.project as { id: string }).id, repo };
    },
    async submit(body) {
      const r = await req('POST', '/api/tasks', { body: 'do the thing', ...body });
      if (r.status >= 300) throw new Error(`task not submitted: ${JSON.stringify(r.body)}`);
      return r.body.task as Task;
    },
    task,
    run: (id) => runs.current(id),
    async settle(id, stages = ['shipped', 'failed', 'cancelled', 'dead_letter'], timeoutMs = 90_000) {
      await until(async () => stages.includes((await task(id)).stage), `task ${id} reaches ${stages.join('|')}`, timeoutMs);
      return task(id);
    },
    eventTypes: async (taskId) => (await coordinator.store.events.list({ taskId, limit: 5000 })).map((e) => e.type),
    async close() {
      await coordinator.close();
      if (!o.db) await db.dispose();
      if (!o.home) rmSync(homeDir, { recursive: true, force: true });
      for (const r of repos) rmSync(r, { recursive: true, force: true });
    },
  };
}
