#!/usr/bin/env node
// Runs every test/**/*.test.ts with node's test runner (through tsx), two files at a time.
// Usage: node scripts/run-tests.mjs [substring-filter ...]
// The real agent CLIs (scripts/agent-clis.json) are installed on first need into a private prefix
// whose bin goes first on PATH: for the whole suite and for any run that picks a *.real.test.ts.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { delimiter, join, relative } from 'node:path';
import { spawn } from 'node:child_process';
import { binOf, ensureAgentClis, prefixFor, readList } from './install-agent-clis.mjs';

const root = new URL('..', import.meta.url).pathname;
const filters = process.argv.slice(2);
const files = [];
(function walk(dir) {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith('.test.ts')) files.push(relative(root, p));
  }
})(join(root, 'test'));
const chosen = filters.length ? files.filter((f) => filters.some((s) => f.includes(s))) : files;
if (chosen.length === 0) {
  console.error(`no test files match ${filters.join(' ')}`);
  process.exit(1);
}

const ci = process.env.CI === 'true';
let agentBin = binOf(prefixFor(readList()));
if (filters.length === 0 || chosen.some((f) => f.endsWith('.real.test.ts'))) {
  if (process.env.GANTRY_SKIP_AGENT_CLIS === '1' && !ci) console.error('agent CLIs: not installed (GANTRY_SKIP_AGENT_CLIS=1); real-CLI tests will skip');
  else {
    try {
      agentBin = await ensureAgentClis();
    } catch (e) {
      // In CI the real-CLI tests are mandatory; on a laptop without the registry they skip, saying why.
      console.error(`agent CLIs: ${e instanceof Error ? e.message : String(e)}${ci ? '' : ' — real-CLI tests will skip'}`);
      if (ci) process.exit(1);
    }
  }
}
const PATH = existsSync(agentBin) ? [agentBin, process.env.PATH].filter(Boolean).join(delimiter) : process.env.PATH;

const concurrency = process.env.GANTRY_TEST_CONCURRENCY ?? '2';
const child = spawn(process.execPath, ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, ...chosen], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, ...(PATH ? { PATH } : {}) },
});
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
