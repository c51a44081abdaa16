// bench/agents: what supervision and parsing add on top of the raw operations beneath them.
//   1. launch → exit of a trivial agent through the adapter stack (scrubbed env, own process group,
//      log file, line splitting, parser, event queue) vs a raw child_process spawn of the same command.
//      The same launch inside Gantry's bubblewrap sandbox vs unsandboxed, in the same run (added ms per
//      launch; target ≤ 50 ms). Skipped where the host has no working bwrap (GANTRY_BWRAP or PATH).
//   2. parsing a recorded Claude Code / Codex stream vs raw JSON.parse of the same lines.
//   node --import tsx bench/agents.ts
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { claudeCodeParser } from '../src/agents/claude-code-parser.js';
import { runPlanned } from '../src/agents/cli-agent.js';
import { codexParser } from '../src/agents/codex-parser.js';
import { commandParser } from '../src/agents/command-parser.js';
import { sandboxHost } from '../src/agents/sandbox/host.js';
import type { SandboxSpec } from '../src/ports/agent.js';
import type { StreamParser } from '../src/agents/stream-parser.js';
import { opsPerSec, printTable, ratio } from './lib.js';

const N = Number(process.env.BENCH_N ?? 200);
const dir = mkdtempSync(join(tmpdir(), 'gantry-bench-agents-'));
const script = 'echo \'{"type":"turn_started"}\'; echo \'{"type":"message","text":"hi"}\'; echo \'{"type":"turn_completed"}\'';

const raw = (): Promise<void> =>
  new Promise((resolve, reject) => {
    const c = spawn('sh', ['-c', script], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    c.stdout.resume();
    c.on('error', reject);
    c.on('close', () => resolve());
  });

const supervised = (sandbox?: SandboxSpec) => async (i: number): Promise<void> => {
  const h = runPlanned(
    { argv: ['sh', '-c', script], env: {} },
    { sessionId: `b${i}`, launchGeneration: 1, workspace: dir, prompt: '', permissions: { mode: 'edits', allowedTools: [], skipPermissions: false }, logFile: join(dir, 'logs', `b${i}.log`), ...(sandbox ? { sandbox } : {}) },
    commandParser(() => null),
    [],
  );
  for await (const _ of h.events);
};

execFileSync('git', ['init', '-q', dir]); // the sandbox finds the workspace's git dirs
const rawLaunch = await opsPerSec(N, raw);
const stackLaunch = await opsPerSec(N, supervised());
const host = sandboxHost();
const bwrap = host.bwrap && !host.probeError ? host.bwrap : null;
const boxed = bwrap ? await opsPerSec(N, supervised({ bwrap, hide: [join(dir, 'logs')], hideFiles: [], writable: [], grants: [], network: true })) : null;
printTable(`agent launch → exit (${N} runs, sequential)`, ['operation', 'runs/s', 'vs raw'], [
  ['raw spawn (sh, pipes)', rawLaunch, '1.00×'],
  ['adapter stack (supervise + parse)', stackLaunch, ratio(stackLaunch, rawLaunch)],
  ...(boxed ? [['adapter stack in the bwrap sandbox', boxed, ratio(boxed, rawLaunch)]] : []),
]);
if (boxed) console.log(`sandbox launch overhead: ${(1000 / boxed - 1000 / stackLaunch).toFixed(1)} ms added per launch (unsandboxed ${(1000 / stackLaunch).toFixed(1)} ms, sandboxed ${(1000 / boxed).toFixed(1)} ms; target ≤ 50 ms)`);
else console.log(`sandbox launch overhead: skipped (${host.bwrap ? host.probeError : 'no bwrap on this host'})`);

const fixture = (name: string): string[] => readFileSync(new URL(`../test/agents/fixtures/${name}.jsonl`, import.meta.url), 'utf8').split('\n').filter(Boolean);
const rows: (string | number)[][] = [];
for (const [name, make] of [['claude-code-edit-commit', claudeCodeParser], ['codex-edit-commit', codexParser]] as [string, () => StreamParser][]) {
  const lines = fixture(name);
  const reps = 20_000;
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) for (const l of lines) JSON.parse(l);
  const rawRate = (reps * lines.length) / ((performance.now() - t0) / 1000);
  const t1 = performance.now();
  for (let i = 0; i < reps; i++) {
    const p = make();
    for (const l of lines) p.line(l);
  }
  const parserRate = (reps * lines.length) / ((performance.now() - t1) / 1000);
  rows.push([`${name}: JSON.parse`, rawRate, '1.00×'], [`${name}: parser`, parserRate, ratio(parserRate, rawRate)]);
}
printTable('stream parsing (lines/s)', ['operation', 'lines/s', 'vs raw'], rows);
rmSync(dir, { recursive: true, force: true });
