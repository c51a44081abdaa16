// A real coordinator on port 0 in a temp home, on either store.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCoordinator, type Coordinator } from '../../src/app/coordinator.js';
import { resolveHome } from '../../src/app/home.js';
import { silentLogger } from '../../src/api/logger.js';
import { freshDb, type TestDb } from './db.js';

export interface TestApi {
  url: string;
  token: string;
  home: string;
  coordinator: Coordinator;
  db: TestDb;
  req(method: string, path: string, body?: unknown, opts?: { token?: string | null; headers?: Record<string, string>; raw?: string }): Promise<{ status: number; body: Record<string, unknown> }>;
  close(): Promise<void>;
}

export async function startTestApi(kind: 'sqlite' | 'postgres', opts: { keepAliveMs?: number } = {}): Promise<TestApi> {
  const db = await freshDb(kind);
  const homeDir = mkdtempSync(join(tmpdir(), 'gantry-home-'));
  const home = resolveHome(homeDir);
  const coordinator = await startCoordinator({
    home,
    port: 0,
    host: '127.0.0.1',
    database: kind === 'postgres' ? db.target : join(homeDir, 'gantry.db'),
    factories: 0,
    logger: silentLogger,
    pollMs: 200,
    ...(opts.keepAliveMs ? { keepAliveMs: opts.keepAliveMs } : {}),
  });
  const api: TestApi = {
    url: coordinator.url,
    token: coordinator.adminToken,
    home: homeDir,
    coordinator,
    db,
    async req(method, path, body, o = {}) {
      const token = o.token === undefined ? coordinator.adminToken : o.token;
      const headers: Record<string, string> = { ...(token ? { Authorization: `Bearer ${token}` } : {}), ...(o.headers ?? {}) };
      let payload: string | undefined;
      if (o.raw !== undefined) payload = o.raw;
      else if (body !== undefined) payload = JSON.stringify(body);
      if (payload !== undefined && !headers['Content-Type']) headers['Content-Type'] = 'application/json';
      const res = await fetch(`${coordinator.url}${path}`, { method, headers, ...(payload !== undefined ? { body: payload } : {}) });
      const text = await res.text();
      return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
    },
    async close() {
      await coordinator.close();
      await db.dispose();
      rmSync(homeDir, { recursive: true, force: true });
    },
  };
  return api;
}
