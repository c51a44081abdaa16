// Operating a real `gantry up` (a child process, embedded SQLite, one in-process factory, the
// scripted agent on a real repository): /api/ready, a Prometheus scrape with a `metrics` token
// whose series move as tasks ship, structured logs with ids as fields, and a clean SIGTERM.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GANTRY_BIN } from '../support/cli.js';
import { makeRepo } from '../support/git.js';
import { localFactoryId } from '../../src/app/home.js';

const YAML = `
version: 1
pipelines:
  one: { steps: [ { id: implement, kind: agent, role: impl_one }, { id: merge, kind: merge } ] }
  two: { steps: [ { id: implement, kind: agent, role: impl_two }, { id: merge, kind: merge } ] }
agents:
  scripted:
    roles:
      impl_one: [ { write: { path: one.txt, content: "1\\n" } }, { commit: "one" } ]
      impl_two: [ { write: { path: two.txt, content: "2\\n" } }, { commit: "two" } ]
`;

/** Sum of every sample of `name` whose labels include `labels`. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || !line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) sum += Number(m[3]);
  }
  return sum;
}

const until = async <T>(f: () => Promise<T | undefined>, what: string | (() => string), ms = 90_000): Promise<T> => {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
};

describe('gantry up as a service: readiness, metrics, logs', () => {
  it('scrapes /metrics while tasks ship, and the series move', async () => {
    const home = mkdtempSync(join(tmpdir(), 'gantry-metrics-'));
    const repo = makeRepo({ 'README.md': '# sample\n', 'gantry.yaml': YAML });
    const child = spawn(process.execPath, [GANTRY_BIN, 'up', '--home', home, '--port', '0', '--json', '--log-level', 'info'], {
      env: { ...process.env, GANTRY_URL: '', GANTRY_TOKEN: '', GANTRY_LOG: '', JOURNAL_STREAM: '', GANTRY_HEARTBEAT_MS: '500', GANTRY_STALE_MS: '5000' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    try {
      const daemon = join(home, 'daemon.json');
      const url = await until(async () => (existsSync(daemon) ? (JSON.parse(readFileSync(daemon, 'utf8')) as { url: string }).url : undefined), () => `gantry up (stderr: ${stderr})`, 30_000);
      const admin = readFileSync(join(home, 'admin.token'), 'utf8').trim();
      const call = async (method: string, path: string, token: string | null, body?: unknown) => {
        const res = await fetch(`${url}${path}`, { method, headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), ...(body ? { 'Content-Type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
        return { status: res.status, text: await res.text(), type: res.headers.get('content-type') ?? '' };
      };

      const ready = await until(async () => {
        const r = await call('GET', '/api/ready', null);
        return r.status === 200 ? (JSON.parse(r.text) as { ready: boolean; checks: Array<{ name: string; ok: boolean }> }) : undefined;
      }, 'readiness');
      assert.deepEqual(ready.checks.map((c) => `${c.name}:${c.ok}`), ['store:true', 'migrations:true', 'factories:true']);

      // A scraper's own token: it may read /metrics and nothing else.
      const created = await call('POST', '/api/tokens', admin, { name: 'prometheus', role: 'metrics' });
      assert.equal(created.status, 201, created.text);
      const prom = (JSON.parse(created.text) as { token: string }).token;
      assert.equal((await call('GET', '/api/tasks', prom)).status, 403);
      assert.equal((await call('GET', '/metrics', null)).status, 401);
      const scrape = async () => {
        const r = await call('GET', '/metrics', prom);
        assert.equal(r.status, 200);
        assert.match(r.type, /^text\/plain; version=0\.0\.4/);
        return r.text;
      };

      const before = await scrape();
      assert.equal(sample(before, 'gantry_factory_up', { factory: localFactoryId(home, 1) }), 1);
      assert.equal(sample(before, 'gantry_tasks', { stage: 'shipped' }), 0);

      const project = await call('POST', '/api/projects', admin, { path: repo });
      assert.equal(project.status, 201, project.text);
      const projectId = (JSON.parse(project.text) as { project: { id: string } }).project.id;
      const ids: string[] = [];
      for (const pipeline of ['one', 'two']) {
        const r = await call('POST', '/api/tasks', admin, { title: `ship ${pipeline}`, project: projectId, pipeline, agent: 'scripted' });
        assert.equal(r.status, 201, r.text);
        ids.push((JSON.parse(r.text) as { task: { id: string } }).task.id);
      }

      // Scrape while they run: shipped only ever goes up, and ends at 2.
      let shipped = 0;
      const after = await until(async () => {
        const text = await scrape();
        const now = sample(text, 'gantry_tasks', { stage: 'shipped' });
        assert.ok(now >= shipped, 'shipped never goes down');
        shipped = now;
        const failed = sample(text, 'gantry_tasks', { stage: 'failed' });
        assert.equal(failed, 0, 'no task failed');
        return now === 2 ? text : undefined;
      }, 'both tasks shipped');

      const moved = (name: string, labels: Record<string, string> = {}) => sample(after, name, labels) - sample(before, name, labels);
      assert.equal(moved('gantry_tasks_submitted_total'), 2);
      assert.equal(moved('gantry_task_transitions_total', { stage: 'shipped' }), 2);
      assert.ok(moved('gantry_lease_grants_total') >= 2);
      assert.ok(moved('gantry_fleet_claims_total', { result: 'granted' }) >= 2);
      assert.ok(moved('gantry_lease_releases_total', { outcome: 'done' }) >= 2);
      assert.ok(moved('gantry_agent_launches_total', { adapter: 'scripted' }) >= 2);
      assert.ok(moved('gantry_agent_sessions_total', { adapter: 'scripted', status: 'completed' }) >= 2);
      assert.equal(moved('gantry_agent_failures_total', { adapter: 'scripted' }), 0);
      assert.equal(moved('gantry_runs_finished_total', { state: 'done' }), 2);
      assert.ok(moved('gantry_step_duration_seconds_count', { kind: 'agent', result: 'done' }) >= 2);
      assert.ok(moved('gantry_step_duration_seconds_count', { kind: 'merge', result: 'done' }) >= 2);
      assert.ok(moved('gantry_merges_total') >= 2);
      assert.ok(moved('gantry_checkpoints_total') >= 2);
      assert.equal(moved('gantry_http_request_duration_seconds_count', { method: 'POST', route: '/api/tasks', status: '201' }), 2);
      assert.equal(sample(after, 'gantry_queue_depth'), 0);
      assert.ok(sample(after, 'gantry_event_seq') > sample(before, 'gantry_event_seq'));
      assert.ok(sample(after, 'process_cpu_seconds_total') > 0, 'Node.js runtime metrics');
      for (const id of ids) assert.ok(!after.includes(id), 'no task ids as labels');

      // The log: JSON lines, ids as fields (never inside messages), no tokens.
      child.kill('SIGTERM');
      assert.equal(await exited, 0, stderr);
      const log = readFileSync(join(home, 'logs', 'coordinator.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      const released = log.filter((l) => l.msg === 'lease released');
      assert.deepEqual(released.map((l) => l.taskId).sort(), [...ids].sort());
      assert.ok(log.every((l) => typeof l.msg === 'string' && !ids.some((id) => (l.msg as string).includes(id))), 'ids are fields, not message text');
      assert.ok(log.some((l) => l.component === 'http' && l.route === '/api/tasks' && l.status === 201));
      const raw = readFileSync(join(home, 'logs', 'coordinator.log'), 'utf8');
      assert.ok(!raw.includes(admin) && !raw.includes(prom), 'no tokens in the log');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
      rmSync(home, { recursive: true, force: true });
      rmSync(repo, { recursive: true, force: true });
    }
  });
});
