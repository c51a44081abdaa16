#!/usr/bin/env node
// What `npm install` costs on a clean clone: wall time, node_modules size, the largest packages,
// and a check that no agent CLI (scripts/agent-clis.json) came with it. Clones the committed HEAD
// (or --ref REV) into a temporary directory, installs there, prints a table, removes the clone.
// Usage: node scripts/install-size.mjs [--ref REV] [--cold] [--prebuilt-here] [--keep]
//   --cold           use an empty npm cache (downloads everything; needs the registry) instead of yours
//   --prebuilt-here  offer better-sqlite3 this checkout's compiled binary as its prebuild, standing in
//                    for the download from GitHub that a machine without that route cannot make
//                    (otherwise it compiles SQLite, minutes that a normal install does not spend)
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const argv = process.argv.slice(2);
const opt = (name) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const ref = opt('--ref') ?? 'HEAD';
const cold = argv.includes('--cold');
const keep = argv.includes('--keep');
const prebuiltHere = argv.includes('--prebuilt-here');

const run = (cmd, args, cwd) => {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed:\n${r.stderr}`);
  return r.stdout.trim();
};

/** Disk usage like `du`: allocated blocks, each hard-linked file once. */
function diskUsage(dir, seen = new Set()) {
  let total = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = lstatSync(p);
    if (seen.has(st.ino)) continue;
    seen.add(st.ino);
    total += st.blocks * 512;
    if (st.isDirectory()) total += diskUsage(p, seen);
  }
  return total;
}

/** Top-level packages of node_modules (scoped ones by their full name). */
function packages(nm) {
  const out = [];
  for (const name of readdirSync(nm)) {
    if (name.startsWith('.')) continue;
    if (name.startsWith('@')) for (const sub of readdirSync(join(nm, name))) out.push(`${name}/${sub}`);
    else out.push(name);
  }
  return out;
}

const mb = (b) => `${(b / 1024 / 1024).toFixed(1)} MB`;
const tmp = mkdtempSync(join(tmpdir(), 'gantry-install-size-'));
const clone = join(tmp, 'gantry');
try {
  const sha = run('git', ['rev-parse', '--short', ref], root);
  run('git', ['clone', '--quiet', '--no-local', root, clone], tmp);
  run('git', ['checkout', '--quiet', '--detach', sha], clone);
  const args = ['install', '--no-audit', '--no-fund', ...(cold ? ['--cache', join(tmp, 'npm-cache')] : ['--prefer-offline'])];
  console.error(`npm ${args.join(' ')}  (clean clone of ${ref} = ${sha}, ${cold ? 'empty npm cache' : 'your npm cache'})`);
  const env = { ...process.env };
  if (prebuiltHere) {
    const sqlite = join(root, 'node_modules', 'better-sqlite3');
    const { version } = JSON.parse(readFileSync(join(sqlite, 'package.json'), 'utf8'));
    const dir = join(tmp, 'prebuilds');
    mkdirSync(dir);
    run('tar', ['-czf', join(dir, `better-sqlite3-v${version}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`), '-C', sqlite, 'build/Release/better_sqlite3.node'], root);
    env.npm_config_better_sqlite3_local_prebuilds = dir;
  }
  const t0 = Date.now();
  const r = spawnSync('npm', args, { cwd: clone, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const seconds = (Date.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`npm install failed:\n${r.stderr}`);
  const nm = join(clone, 'node_modules');
  const pkgs = packages(nm);
  const sizes = pkgs.map((p) => [p, diskUsage(join(nm, p))]).sort((a, b) => b[1] - a[1]);
  const total = diskUsage(nm);
  const agentList = existsSync(join(clone, 'scripts', 'agent-clis.json'))
    ? Object.keys(JSON.parse(readFileSync(join(clone, 'scripts', 'agent-clis.json'), 'utf8')))
    : ['@anthropic-ai/claude-code', '@openai/codex'];
  const agents = agentList.filter((p) => existsSync(join(nm, p)));
  const warnings = (r.stderr.match(/npm warn EBADENGINE/gi) ?? []).length;
  const rows = [
    ['revision', `${ref} (${sha})${prebuiltHere ? ', better-sqlite3 prebuilt from this checkout' : ''}`],
    ['npm install', `${seconds.toFixed(1)} s`],
    ['node_modules', `${mb(total)}, ${pkgs.length} top-level packages`],
    ['largest', sizes.slice(0, 5).map(([p, s]) => `${p} ${mb(s)}`).join(', ')],
    ['agent CLIs', agents.length ? `INSTALLED: ${agents.join(', ')}` : 'none (installed for tests by scripts/install-agent-clis.mjs)'],
    ['engine warnings', String(warnings)],
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  console.log(rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n'));
  if (agents.length) process.exitCode = 1;
} finally {
  if (keep) console.error(`kept ${clone}`);
  else rmSync(tmp, { recursive: true, force: true });
}
