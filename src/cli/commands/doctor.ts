// gantry doctor: every prerequisite, its state, and what to do about it.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import type { Command } from 'commander';
import { resolveHome, readDaemon } from '../../app/home.js';
import { openDatabase, isPostgresUrl } from '../../store/open.js';
import { MIGRATIONS } from '../../store/migrations/index.js';
import { gitVersion } from '../../scm/git.js';
import { detectAll } from '../../agents/registry.js';
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

async function checkStore(target: string): Promise<CheckResult> {
  const kind = isPostgresUrl(target) ? 'PostgreSQL' : 'SQLite';
  if (!isPostgresUrl(target) && !existsSync(target)) {
    return { name: 'store', status: 'ok', detail: `${kind} ${target} (created on first \`gantry up\`)` };
  }
  const db = openDatabase(target, { poolSize: 1 });
  try {
    const row = await db.get<{ v: number | null }>('SELECT MAX(version) AS v FROM gantry_migrations').catch(() => ({ v: 0 }));
    const v = Number(row?.v ?? 0);
    const known = MIGRATIONS.length;
    if (v > known) return { name: 'store', status: 'fail', detail: `${kind} schema v${v} is newer than this Gantry (v${known})`, fix: 'upgrade Gantry' };
    return { name: 'store', status: 'ok', detail: `${kind} reachable, schema v${v}${v < known ? ` (migrates to v${known} on start)` : ''}` };
  } catch (e) {
    return { name: 'store', status: 'fail', detail: `${kind} unreachable: ${(e as Error).message}`, fix: isPostgresUrl(target) ? 'check the URL, that PostgreSQL runs, and credentials' : 'check the home directory permissions' };
  } finally {
    await db.close().catch(() => undefined);
  }
}

export async function runChecks(opts: { home?: string; database?: string }): Promise<CheckResult[]> {
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
  for (const a of await detectAll()) {
    const detail = a.installed ? `${a.version ?? 'installed'}${a.path ? ` (${a.path})` : ''}` : 'not installed';
    results.push({ name: `agent ${a.id}`, status: a.ready ? 'ok' : 'warn', detail, ...(a.ready || !a.hint ? {} : { fix: a.hint }) });
  }
  return results;
}

export function registerDoctor(program: Command): void {
  withCommon(program.command('doctor'))
    .description('check prerequisites (git, store, coordinator, agent CLIs, tmux) and say what to do about each')
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
