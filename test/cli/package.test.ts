// The package as a user gets it: `npm pack` holds built JavaScript (no TypeScript, no tests), and
// the tarball, installed into a fresh prefix and put on PATH, works from outside the clone —
// `gantry demo --exit-when-done`, `gantry init` + `gantry add` in a new repository, `gantry doctor`.
// The install runs its real scripts; better-sqlite3's prebuilt binary, which npm would download
// from GitHub (unreachable here), is offered from this checkout's own build, and every package
// comes from npm's cache when it can.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GIT_IDENTITY } from '../support/cli.js';
import { git } from '../support/git.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string; license: string; dependencies: Record<string, string> };

interface Packed {
  filename: string;
  files: Array<{ path: string; size: number }>;
}

function sh(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { cwd: opts.cwd ?? ROOT, env: opts.env ?? process.env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function sourcesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? sourcesUnder(p) : n.endsWith('.ts') ? [relative(ROOT, p)] : [];
  });
}

describe('the npm package', () => {
  let tmp: string;
  let packed: Packed;

  before(() => {
    tmp = mkdtempSync(join(tmpdir(), 'gantry-pkg-'));
    // What `prepare` does on `npm pack`, without the slow half when it is already done.
    assert.equal(sh(process.execPath, ['scripts/build.mjs', '--quiet']).code, 0);
    if (!existsSync(join(ROOT, 'web', 'dist', 'index.html'))) assert.equal(sh('npm', ['run', 'build:web']).code, 0);
    const r = sh('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp]);
    assert.equal(r.code, 0, r.stderr);
    packed = (JSON.parse(r.stdout) as Packed[])[0]!;
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('npm pack holds the built JavaScript, the dashboard, the docs and the license — no TypeScript, tests or tooling', () => {
    const paths = packed.files.map((f) => f.path);
    for (const p of ['package.json', 'README.md', 'LICENSE', 'bin/gantry.js', 'dist/cli/entry.js', 'dist/cli/main.js', 'dist/agents/scripted/main.js', 'web/dist/index.html', 'docs/architecture.md']) {
      assert.ok(paths.includes(p), `${p} is in the package`);
    }
    const stray = paths.filter((p) => /^(src|test|bench|scripts|node_modules|\.agent-clis|\.ci)\/|\.ts$|\.tsx$|^tsconfig|^eslint|^docs\/screenshots\//.test(p));
    assert.deepEqual(stray, [], 'nothing but what runs and what documents it');
    const modules = paths.filter((p) => p.startsWith('dist/') && p.endsWith('.js'));
    assert.equal(modules.length, sourcesUnder(join(ROOT, 'src')).length, 'one module per source file');
    assert.match(readFileSync(join(ROOT, 'LICENSE'), 'utf8'), /^MIT License/);
    assert.equal(pkg.license, 'MIT');
    assert.ok(!('tsx' in pkg.dependencies) && !('typescript' in pkg.dependencies), 'no TypeScript compiler at run time');
  });

  it('a clean `npm install` pulls no agent CLI: none is in the lockfile', () => {
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, unknown> };
    const agents = Object.keys(JSON.parse(readFileSync(join(ROOT, 'scripts', 'agent-clis.json'), 'utf8')) as Record<string, string>);
    assert.ok(agents.length >= 2);
    const pulled = Object.keys(lock.packages).filter((k) => agents.some((a) => k === `node_modules/${a}` || k.startsWith(`node_modules/${a}-`)));
    assert.deepEqual(pulled, []);
  });

  it('`npm install -g .` in the clone puts a working `gantry` on PATH (the README way)', () => {
    const prefix = join(tmp, 'linked');
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const k of Object.keys(env)) if (/^(GANTRY_|npm_config_(local_prefix|global|prefix)$|npm_(command|lifecycle_event)$)/i.test(k)) delete env[k];
    // A folder install links the clone (already built above); its scripts are the clone's business.
    const r = sh('npm', ['install', '--global', '--prefix', prefix, '--ignore-scripts', '--offline', '--no-audit', '--no-fund', '.'], { env });
    assert.equal(r.code, 0, r.stderr);
    const shell = { ...env, HOME: tmp, PATH: `${join(prefix, 'bin')}:${dirname(process.execPath)}:/usr/bin:/bin` };
    const v = sh('gantry', ['--version'], { cwd: tmp, env: shell });
    assert.equal(v.stdout.trim(), pkg.version, v.stderr);
    const ls = sh('gantry', ['ls', '--home', join(tmp, 'nowhere')], { cwd: tmp, env: shell });
    assert.match(ls.stderr, /start one with `gantry up`/);
  });

  it('installed from the tarball into a fresh prefix and put on PATH, it works from outside the clone', async () => {
    // better-sqlite3's install looks for a local prebuild before downloading one.
    const prebuilds = join(tmp, 'prebuilds');
    mkdirSync(prebuilds);
    const sqlite = join(ROOT, 'node_modules', 'better-sqlite3');
    const version = (JSON.parse(readFileSync(join(sqlite, 'package.json'), 'utf8')) as { version: string }).version;
    const tarball = `better-sqlite3-v${version}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`;
    assert.equal(sh('tar', ['-czf', join(prebuilds, tarball), '-C', sqlite, 'build/Release/better_sqlite3.node']).code, 0);

    const prefix = join(tmp, 'prefix');
    const home = join(tmp, 'home');
    const work = join(tmp, 'work');
    mkdirSync(home);
    mkdirSync(work);
    const base: NodeJS.ProcessEnv = { ...process.env, npm_config_better_sqlite3_local_prebuilds: prebuilds };
    for (const k of Object.keys(base)) if (/^(GANTRY_|npm_config_(local_prefix|global|prefix)$|npm_(command|lifecycle_event)$)/i.test(k)) delete base[k];
    const install = sh('npm', ['install', '--global', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', join(tmp, packed.filename)], { cwd: work, env: base });
    assert.equal(install.code, 0, install.stderr);
    const installed = join(prefix, 'lib', 'node_modules', pkg.name);
    for (const dev of ['tsx', 'typescript', '@anthropic-ai/claude-code', '@openai/codex']) assert.ok(!existsSync(join(installed, 'node_modules', dev)), `${dev} is not installed`);

    // A user's shell: the prefix's bin on PATH, no agent CLI, a home of its own, outside the clone.
    const env: NodeJS.ProcessEnv = { ...base, HOME: home, PATH: `${join(prefix, 'bin')}:${dirname(process.execPath)}:/usr/bin:/bin`, ...GIT_IDENTITY };
    const run = (args: string[], cwd = work) => sh('gantry', args, { cwd, env });

    const v = run(['--version']);
    assert.equal(v.stdout.trim(), pkg.version, v.stderr);
    const hint = run(['ls']);
    assert.match(hint.stderr, /start one with `gantry up`/, 'hints name the `gantry` on PATH');

    const demo = run(['demo', '--exit-when-done', '--port', '0', '--home', join(home, 'demo'), '--timeout', '300']);
    assert.equal(demo.code, 0, `${demo.stdout}\n${demo.stderr}`);
    assert.match(demo.stdout, /Every demo task shipped\./);

    const repo = join(work, 'my-app');
    mkdirSync(repo);
    git(repo, 'init', '-q', '-b', 'main');
    git(repo, 'commit', '-q', '--allow-empty', '-m', 'initial');
    const up = spawn('gantry', ['up', '--port', '0', '--json'], { cwd: work, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let upErr = '';
    up.stderr.on('data', (d: Buffer) => (upErr += d));
    try {
      const served = await new Promise<{ url: string }>((resolve, reject) => {
        let out = '';
        up.stdout.on('data', (d: Buffer) => ((out += d), out.includes('\n}') && resolve(JSON.parse(out) as { url: string })));
        up.once('exit', (code) => reject(new Error(`gantry up exited ${code}: ${upErr}`)));
      });
      const page = await fetch(`${served.url}/`);
      assert.equal(page.status, 200, 'the installed package serves its dashboard (web/dist)');
      assert.match(await page.text(), /<div id="root">/);
      const init = run(['init'], repo);
      assert.equal(init.code, 0, init.stderr);
      assert.match(init.stdout, /agent\s+scripted/);
      const add = run(['add', 'Try Gantry'], repo);
      assert.equal(add.code, 0, add.stderr);
      assert.match(add.stdout, /^submitted t-\w+ to my-app \(queued\) Try Gantry\n {2}follow it: gantry logs t-\w+ -f/);
      const doctor = run(['doctor'], repo);
      assert.equal(doctor.code, 0, doctor.stdout + doctor.stderr);
      assert.match(doctor.stdout, /ok\s+store\s+SQLite reachable, schema v\d+/);
      assert.match(doctor.stdout, /ok\s+gantry\.yaml/);
    } finally {
      const exited = new Promise((r) => up.once('exit', r));
      up.kill('SIGINT');
      up.kill('SIGINT');
      await exited;
    }
  });
});
