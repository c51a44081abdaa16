// CLI start-up, as a user's shell sees it: the built `gantry` (bin/gantry.js → dist/) against the
// raw cost of starting Node (`node -e 0`), median of alternating runs so both see the same machine.
//   gantry --version                                   target ≤ 1.5×
//   gantry ls, empty home (no coordinator)             target ≤ 2.5×
//   completion: the task ids the bash/zsh/fish scripts ask for (`gantry ls --json --limit 200`
//   against a running coordinator with BENCH_TASKS tasks)
// Run: node --import tsx bench/cli.ts   (BENCH_ROUNDS, default 7; BENCH_TASKS, default 50)
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startCoordinator } from '../src/app/coordinator.js';
import { resolveHome } from '../src/app/home.js';
import { registerProject } from '../src/app/projects.js';
import { submitTask } from '../src/app/submit.js';
import { silentLogger } from '../src/api/logger.js';
import { printTable } from './lib.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const TASKS = Number(process.env.BENCH_TASKS ?? 50);
const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'bin', 'gantry.js');

// The package runs dist/: build it from the sources being measured.
const built = spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs'), '--quiet'], { stdio: 'inherit' });
if (built.status !== 0) process.exit(1);

const tmp = mkdtempSync(join(tmpdir(), 'gantry-bench-cli-'));
const emptyHome = join(tmp, 'empty');
const home = resolveHome(join(tmp, 'home'));
const repo = join(tmp, 'repo');
spawnSync('git', ['init', '-q', '-b', 'main', repo]);
spawnSync('git', ['-C', repo, '-c', 'user.name=b', '-c', 'user.email=b@b', 'commit', '-q', '--allow-empty', '-m', 'init']);

const coord = await startCoordinator({ home, port: 0, host: '127.0.0.1', factories: 0, logger: silentLogger });
const { project } = await registerProject(coord.store, { path: repo });
for (let i = 0; i < TASKS; i++) {
  await submitTask(coord.store, { title: `task ${i}`, body: '', project: project.id, priority: 0, capabilities: [], after: [] });
}

const env = { ...process.env, GANTRY_URL: '', GANTRY_TOKEN: '' };
// Asynchronous: the coordinator answering the completion query lives in this process.
const timed = (args: string[], extraEnv: Record<string, string> = {}): Promise<number> =>
  new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(process.execPath, args, { env: { ...env, ...extraEnv }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('exit', (code) => {
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (args.includes('--json') && code !== 0) reject(new Error(`${args.join(' ')} failed: ${stderr}`));
      else resolve(ms);
    });
  });

const cases: Array<{ name: string; args: string[]; env?: Record<string, string>; target?: number }> = [
  { name: 'node -e 0 (baseline)', args: ['-e', '0'] },
  { name: 'gantry --version', args: [bin, '--version'], target: 1.5 },
  { name: 'gantry ls (empty home)', args: [bin, 'ls', '--home', emptyHome], target: 2.5 },
  { name: `completion: task ids (${TASKS} tasks)`, args: [bin, 'ls', '--json', '--limit', '200'], env: { GANTRY_HOME: home.dir } },
];
const samples = cases.map(() => [] as number[]);
for (const c of cases) await timed(c.args, c.env); // warm the file cache once
for (let r = 0; r < ROUNDS; r++) for (const [i, c] of cases.entries()) samples[i]!.push(await timed(c.args, c.env));

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const base = median(samples[0]!);
printTable(
  `CLI start-up (median of ${ROUNDS} alternating runs; built JS from dist/)`,
  ['command', 'median ms', 'vs node -e 0', 'target', ''],
  cases.map((c, i) => {
    const m = median(samples[i]!);
    const x = m / base;
    return [c.name, m, i === 0 ? '1.00×' : `${x.toFixed(2)}×`, c.target ? `≤ ${c.target}×` : '', c.target ? (x <= c.target ? 'ok' : 'OVER') : ''];
  }),
);

await coord.close();
rmSync(tmp, { recursive: true, force: true });
