// gantry doctor: every prerequisite, its state, and what to do about it.
import { execFile } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Command } from 'commander';
import { resolveHome, readDaemon } from '../../app/home.js';
import { CONFIG_FILE } from '../../config/project-config.js';
import { isGantryError } from '../../domain/errors.js';
import { gitVersion, repoRoot } from '../../scm/git.js';
import { action, examples, withCommon, type CommonFlags } from '../common.js';
import { emit, table } from '../output.js';

const run = promisify(execFile);

export type CheckStatus = 'ok' | 'warn' | 'fail';
export interface CheckResult {
  name: string;
  status: CheckStatus;
  detail: string;
  fix?: string;
}

/** git ≥ 2.38 is needed for `git merge-tree --write-tree` (conflict detection). */
export function judgeGit(version: string | null): CheckResult {
  if (!version) return { name: 'git', status: 'fail', detail: 'not found on PATH', fix: 'install git ≥ 2.38 (apt-get install git)' };
  const [maj = 0, min = 0] = version.split('.').map((n) => Number.parseInt(n, 10));
  const ok = maj > 2 || (maj === 2 && min >= 38);
  return ok ? { name: 'git', status: 'ok', detail: version } : { name: 'git', status: 'fail', detail: version, fix: 'upgrade git to ≥ 2.38 (merge-tree --write-tree)' };
}

async function versionOf(bin: string, args: string[] = ['--version']): Promise<string | null> {
  try {
    const { stdout, stderr } = await run(bin, args, { timeout: 10_000 });
    return (stdout || stderr).trim().split('\n')[0] ?? '';
  } catch {
    return null;
  }
}

/** The store's schema against this build's migrations. Pure. */
export function judgeSchema(kind: string, applied: readonly number[], known: readonly number[]): CheckResult {
  const newest = Math.max(0, ...applied);
  const latest = Math.max(0, ...known);
  if (newest > latest) return { name: 'store', status: 'fail', detail: `${kind} schema v${newest} is newer than this Gantry (v${latest})`, fix: 'upgrade Gantry, or use another --home / --database' };
  const pending = known.filter((v) => !applied.includes(v));
  return { name: 'store', status: 'ok', detail: `${kind} reachable, schema v${newest}${pending.length ? ` (migrates to v${latest} on start)` : ''}` };
}

async function checkStore(target: string): Promise<CheckResult> {
  const [{ openDatabase, isPostgresUrl }, { MIGRATIONS }] = await Promise.all([import('../../store/open.js'), import('../../store/migrations/index.js')]);
  const kind = isPostgresUrl(target) ? 'PostgreSQL' : 'SQLite';
  if (!isPostgresUrl(target) && !existsSync(target)) {
    return { name: 'store', status: 'ok', detail: `${kind} ${target} (created on first \`gantry up\`)` };
  }
  const db = openDatabase(target, { poolSize: 1 });
  try {
    const rows = await db.all<{ version: number }>('SELECT version FROM gantry_migrations').catch(() => []);
    return judgeSchema(kind, rows.map((r) => Number(r.version)), MIGRATIONS.map((m) => m.version));
  } catch (e) {
    return { name: 'store', status: 'fail', detail: `${kind} unreachable: ${(e as Error).message}`, fix: isPostgresUrl(target) ? 'check the URL, that PostgreSQL runs, and credentials' : 'check the home directory permissions' };
  } finally {
    await db.close().catch(() => undefined);
  }
}

/** The gantry.yaml of the repository the command runs in, validated as the coordinator will. */
type ProjectFacts = { defaultAgent: string; binaries: Record<string, string>; sandbox: 'auto' | 'required' | 'off' };

/** Which process sandbox agents get here and why; where there is none, whether secrets stay out of their reach. Pure. */
export function judgeSandbox(d: { mode: 'bwrap' | 'none'; why: string; refuse: boolean; fix?: string }, home: { dir: string; mode: number | null }): CheckResult[] {
  const out: CheckResult[] = [];
  if (d.mode === 'bwrap') out.push({ name: 'sandbox', status: 'ok', detail: d.why });
  else out.push({ name: 'sandbox', status: d.refuse ? 'fail' : 'warn', detail: d.why, ...(d.fix ? { fix: d.fix } : {}) });
  if (d.mode === 'none' && home.mode !== null && (home.mode & 0o077) !== 0) {
    out.push({ name: 'secrets', status: 'warn', detail: `${home.dir} is readable by other users (mode ${(home.mode & 0o777).toString(8)})`, fix: `chmod 700 ${home.dir}` });
  }
  if (d.mode === 'none') {
    out.push({ name: 'secrets', status: 'warn', detail: `without a sandbox an agent runs as you and can read ${home.dir} (admin token, database) and your credentials`, fix: d.fix ?? 'install bubblewrap' });
  }
  return out;
}

async function checkProjectConfig(cwd: string): Promise<{ result: CheckResult; config: ProjectFacts | null } | null> {
  const root = await repoRoot(cwd);
  if (!root) return null;
  const file = join(root, CONFIG_FILE);
  if (!existsSync(file)) return { result: { name: CONFIG_FILE, status: 'warn', detail: `${root} has none`, fix: 'run `gantry init` there' }, config: null };
  const { readProjectConfig } = await import('../../app/projects.js');
  try {
    const c = await readProjectConfig(root);
    const binaries = Object.fromEntries(Object.entries(c.agents).flatMap(([id, a]) => (typeof a.binary === 'string' ? [[id, a.binary]] : [])));
    return { result: { name: CONFIG_FILE, status: 'ok', detail: `${file} is valid (default agent ${c.defaults.agent}, pipeline ${c.defaults.pipeline})` }, config: { defaultAgent: c.defaults.agent, binaries, sandbox: c.sandbox.mode } };
  } catch (e) {
    const msg = isGantryError(e) ? e.message.split('\n').join('; ') : String(e);
    return { result: { name: CONFIG_FILE, status: 'fail', detail: msg, fix: `fix ${file} (\`gantry config check\` shows every error)` }, config: null };
  }
}

export async function runChecks(opts: { home?: string; database?: string; cwd?: string }): Promise<CheckResult[]> {
  const home = resolveHome(opts.home);
  const results: CheckResult[] = [];
  const [nodeMajor = 0] = process.versions.node.split('.').map(Number);
  results.push(nodeMajor >= 20 ? { name: 'node', status: 'ok', detail: process.versions.node } : { name: 'node', status: 'fail', detail: process.versions.node, fix: 'install Node.js 20 or newer' });
  results.push(judgeGit(await gitVersion()));
  results.push(await checkStore(opts.database ?? process.env.GANTRY_DATABASE_URL ?? home.database));
  const d = readDaemon(home);
  results.push(d ? { name: 'coordinator', status: 'ok', detail: `${d.url} (pid ${d.pid})` } : { name: 'coordinator', status: 'warn', detail: 'not running', fix: 'start it with `gantry up`' });
  const tmux = await versionOf('tmux', ['-V']);
  results.push(tmux ? { name: 'tmux', status: 'ok', detail: tmux } : { name: 'tmux', status: 'warn', detail: 'not found (only needed for `gantry attach`)', fix: 'apt-get install tmux' });
  const project = await checkProjectConfig(opts.cwd ?? process.cwd());
  if (project) results.push(project.result);
  const [{ detectAll, getAgent }, { hostSandbox }] = await Promise.all([import('../../agents/registry.js'), import('../../agents/sandbox/host.js')]);
  const sandbox = hostSandbox(project?.config?.sandbox ?? 'auto');
  results.push(...judgeSandbox(sandbox, { dir: home.dir, mode: existsSync(home.dir) ? statSync(home.dir).mode : null }));
  for (const a of await detectAll(project?.config ? { binaries: project.config.binaries } : {})) {
    const detail = a.installed ? `${a.version ?? 'installed'}${a.path ? ` (${a.path})` : ''}` : 'not installed';
    // The project's default agent must run here; any other missing CLI is only a warning.
    const isDefault = project?.config?.defaultAgent === a.id;
    const status: CheckStatus = a.ready ? 'ok' : isDefault ? 'fail' : 'warn';
    results.push({ name: `agent ${a.id}`, status, detail: `${detail}${isDefault ? ' — the default agent of this project' : ''}`, ...(a.ready || !a.hint ? {} : { fix: a.hint }) });
    // The agent's own sandbox, as it combines with Gantry's on this host.
    const inner = a.installed ? getAgent(a.id).innerSandbox?.(process.env, sandbox.mode === 'bwrap') : undefined;
    if (inner) results.push({ name: `agent ${a.id} sandbox`, status: inner.state === 'broken' ? (isDefault ? 'fail' : 'warn') : 'ok', detail: inner.detail, ...(inner.fix ? { fix: inner.fix } : {}) });
  }
  return results;
}

export function registerDoctor(program: Command): void {
  withCommon(program.command('doctor'))
    .description("check prerequisites (git, store, coordinator, this repository's gantry.yaml, the agent sandbox, agent CLIs and their own sandboxes, tmux) and say what to do about each")
    .option('--database <url>', 'check this store instead of the home SQLite')
    .addHelpText('after', examples(['gantry doctor', 'gantry doctor --database postgres://localhost/gantry --json']))
    .action(
      action(async (f: CommonFlags & { database?: string }) => {
        const results = await runChecks({ ...(f.home ? { home: f.home } : {}), ...(f.database ? { database: f.database } : {}) });
        const failed = results.some((r) => r.status === 'fail');
        emit(f, { ok: !failed, checks: results }, () =>
          table(
            results.map((r) => [r.status === 'ok' ? 'ok' : r.status === 'warn' ? 'WARN' : 'FAIL', r.name, r.detail + (r.fix ? ` → ${r.fix}` : '')]),
            ['', 'CHECK', 'DETAIL'],
          ),
        );
        if (failed) process.exitCode = 1;
      }),
    );
}
