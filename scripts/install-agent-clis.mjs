#!/usr/bin/env node
// The real agent CLIs the tests drive (scripts/agent-clis.json: package → exact version) live in a
// private prefix, .agent-clis/<hash>/, not in the default `npm install`. This installs them once per
// list: a later run with the same list, platform and architecture finds the finished prefix, prints
// one line and touches no network. `scripts/run-tests.mjs` calls it and puts the prefix's bin first
// on PATH. To add a CLI, add its package and exact version to scripts/agent-clis.json.
//
// Usage: node scripts/install-agent-clis.mjs [--bin]   (--bin: print only the bin directory)
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const LIST = join(root, 'scripts', 'agent-clis.json');
export const PREFIX_ROOT = join(root, '.agent-clis');
const MARKER = 'installed.json';

/** The pinned list, validated: every value an exact version, so a run is reproducible. */
export function readList(file = LIST) {
  const list = JSON.parse(readFileSync(file, 'utf8'));
  if (!list || typeof list !== 'object' || Array.isArray(list)) throw new Error(`${file}: expected {"package": "exact version"}`);
  for (const [pkg, version] of Object.entries(list)) {
    if (typeof version !== 'string' || !/^\d+\.\d+\.\d+(-[\w.]+)?$/.test(version)) {
      throw new Error(`${file}: ${pkg}: "${version}" is not an exact version (pin one, e.g. "1.2.3")`);
    }
  }
  return list;
}

/** One prefix per list, platform and architecture (the CLIs ship native binaries per platform). */
export function prefixFor(list) {
  const canonical = JSON.stringify(Object.entries(list).sort(([a], [b]) => a.localeCompare(b)));
  const hash = createHash('sha256').update(`${canonical}\n${process.platform}-${process.arch}`).digest('hex').slice(0, 12);
  return join(PREFIX_ROOT, hash);
}

export const binOf = (prefix) => join(prefix, 'node_modules', '.bin');

function complete(prefix, list) {
  if (!existsSync(join(prefix, MARKER))) return false;
  return Object.keys(list).every((pkg) => existsSync(join(prefix, 'node_modules', pkg, 'package.json')));
}

function npmInstall(dir) {
  return new Promise((resolve, reject) => {
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    // --prefer-offline: npm's cache answers what it can; the claude-code postinstall must run
    // (it places the native binary), so scripts stay on. Engine warnings are the CLIs' own business.
    const args = ['install', '--no-audit', '--no-fund', '--no-package-lock', '--prefer-offline', '--loglevel=error', '--omit=dev'];
    // Run from `npm test`, npm's environment names this repository as the local prefix: drop it.
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_config_(local_prefix|global)$/i.test(k)));
    const child = spawn(npm, args, { cwd: dir, stdio: ['ignore', 'inherit', 'inherit'], env });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`npm install exited with ${code}`))));
  });
}

/** Installs the listed CLIs if they are not already; returns the bin directory to put on PATH. */
export async function ensureAgentClis({ log = (m) => console.error(m) } = {}) {
  const list = readList();
  const prefix = prefixFor(list);
  const names = Object.entries(list).map(([p, v]) => `${p}@${v}`).join(', ');
  const rel = prefix.slice(root.length);
  if (complete(prefix, list)) {
    log(`agent CLIs: ${names} (cached in ${rel})`);
    return binOf(prefix);
  }
  mkdirSync(PREFIX_ROOT, { recursive: true });
  // Built beside the final place and renamed into it, so a killed install never looks finished.
  const tmp = join(PREFIX_ROOT, `tmp-${process.pid}-${Date.now()}`);
  mkdirSync(tmp);
  const started = Date.now();
  log(`agent CLIs: installing ${names} into ${rel} (once per list)`);
  try {
    writeFileSync(join(tmp, 'package.json'), `${JSON.stringify({ name: 'gantry-agent-clis', private: true, description: 'Agent CLIs for Gantry tests (scripts/agent-clis.json)', dependencies: list }, null, 2)}\n`);
    await npmInstall(tmp);
    writeFileSync(join(tmp, MARKER), `${JSON.stringify({ list, platform: `${process.platform}-${process.arch}`, at: new Date().toISOString() }, null, 2)}\n`);
    rmSync(prefix, { recursive: true, force: true });
    renameSync(tmp, prefix);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  // Earlier lists' prefixes are dead weight (hundreds of MB each); another run's tmp-* is left alone.
  for (const d of readdirSync(PREFIX_ROOT)) {
    if (!d.startsWith('tmp-') && join(PREFIX_ROOT, d) !== prefix) rmSync(join(PREFIX_ROOT, d), { recursive: true, force: true });
  }
  log(`agent CLIs: installed in ${Math.round((Date.now() - started) / 1000)} s`);
  return binOf(prefix);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const quiet = process.argv.includes('--bin');
  try {
    const bin = await ensureAgentClis({ log: quiet ? () => {} : undefined });
    if (quiet) console.log(bin);
  } catch (e) {
    console.error(`agent CLIs: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  }
}
