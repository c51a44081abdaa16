// Workspace benchmark on a generated 10k-file repository. Each Gantry operation is printed beside the
// raw git operation underneath it, measured in the same run:
//   provision from the factory's mirror (no setup commands) vs git worktree add in the clone   target ≤ 1.15×
//   (the mirror's first fetch is in the warm-up; later provisions fetch only when the base moved)
//   full checkpoint (cold private index) vs raw private-index snapshot + git push of it  target ≤ 1.2×
//   (the raw side seeds its index as Gantry must: a copy keeping the index's mtime, so entries racily
//   clean against the checkout are re-hashed; a copy stamped now is faster but misses a same-second
//   edit, test/workspace/checkpoint.test.ts "racy git": it is printed as a row of its own)
//   (a checkpoint is pushed to the project remote by default, the mirror's origin, before it is
//   acknowledged: the raw side pushes its commit to the same remote with plain `git push`; the
//   snapshot-only raw time is printed too)
//   incremental checkpoint after a 1-file change: absolute and as a fraction of the full checkpoint
// Run: node --import tsx bench/workspace.ts [--files N] [--rounds N]
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseWorkspaceConfig } from '../src/config/workspace.js';
import { CheckpointRepoSql } from '../src/store/checkpoint-repo.js';
import { openStore } from '../src/store/open.js';
import { WorkspaceService } from '../src/workspace/workspace-service.js';
import { removeWorktree } from '../src/workspace/worktree-ops.js';

const arg = (name: string, d: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : d;
};
const FILES = arg('files', 10_000);
const ROUNDS = arg('rounds', 7);

const root = mkdtempSync(join(tmpdir(), 'gantry-bench-ws-'));
const repo = join(root, 'repo');
const env = { ...process.env, GIT_AUTHOR_NAME: 'b', GIT_AUTHOR_EMAIL: 'b@b', GIT_COMMITTER_NAME: 'b', GIT_COMMITTER_EMAIL: 'b@b' };
const git = (cwd: string, args: string[], extra: Record<string, string> = {}) => execFileSync('git', args, { cwd, env: { ...env, ...extra }, encoding: 'utf8' }).trim();
const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function generate(): void {
  mkdirSync(repo, { recursive: true });
  git(repo, ['init', '-q', '-b', 'main']);
  const perDir = 100;
  for (let d = 0; d < Math.ceil(FILES / perDir); d++) {
    mkdirSync(join(repo, `pkg${d}`, 'src'), { recursive: true });
    for (let f = 0; f < perDir && d * perDir + f < FILES; f++) {
      writeFileSync(join(repo, `pkg${d}`, 'src', `m${f}.ts`), `export const v${f} = ${d};\n`.repeat(6));
    }
  }
  writeFileSync(join(repo, '.gitignore'), 'node_modules/\n');
  git(repo, ['add', '-A']);
  git(repo, ['commit', '-q', '-m', 'generated']);
}

async function main(): Promise<void> {
  const t0 = process.hrtime.bigint();
  generate();
  console.log(`generated ${FILES} files in ${ms(t0).toFixed(0)} ms (${root})`);
  const store = await openStore(join(root, 'gantry.db'));
  const project = await store.projects.create({ name: 'bench', path: repo, defaultBranch: 'main', config: {} });
  const ws = new WorkspaceService({ home: join(root, 'home'), store, checkpoints: new CheckpointRepoSql(store), clock: { now: () => Date.now() } });
  const config = parseWorkspaceConfig({});
  const newTask = async () =>
    (await store.tasks.submit({ projectId: project.id, title: 'b', body: 'b', pipeline: 'standard', agent: null, priority: 0, capabilities: [], after: [], idempotencyKey: null, maxAttempts: 3 })).task.id;
  const req = (taskId: string) => ({ taskId, project: { id: project.id, name: 'bench', path: repo, defaultBranch: 'main' }, config, resume: false });

  const mirror = join(root, 'home', 'mirrors', 'bench.git');
  // Warm-up: one of each so the page cache and git's own caches are in the same state for both sides.
  const warm = await newTask();
  const tm = process.hrtime.bigint();
  await ws.provision(req(warm));
  console.log(`first provision (creates the mirror: a full fetch of the remote): ${ms(tm).toFixed(0)} ms`);
  git(repo, ['worktree', 'add', '-q', '-b', 'warm-raw', join(root, 'warm-raw'), 'main']);

  const raw: number[] = [];
  const prov: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    // Alternate which side goes first, so neither always runs on a cache the other warmed.
    const sides = [
      async () => {
        const path = join(root, `raw${i}`);
        const t = process.hrtime.bigint();
        git(repo, ['worktree', 'add', '-q', '-b', `raw${i}`, path, 'main']);
        raw.push(ms(t));
        await removeWorktree(repo, path);
      },
      async () => {
        const id = await newTask();
        const t = process.hrtime.bigint();
        const w = await ws.provision(req(id));
        prov.push(ms(t));
        await removeWorktree(mirror, w.path);
      },
    ];
    if (i % 2) sides.reverse();
    for (const s of sides) await s();
  }

  // Checkpoints on the warm workspace. "Full" = no private index yet (first checkpoint of a workspace,
  // or after a resume on another factory); the raw side does the same work by hand: seed a private
  // index from the worktree's index, add -A, write-tree, commit-tree.
  const w = (await ws.get(warm))!;
  const privateIndex = ws.layout.privateIndex('bench', warm);
  const ownIndex = git(w.path, ['rev-parse', '--path-format=absolute', '--git-path', 'index']);
  const rawIndex = join(root, 'raw.index');
  const full: number[] = [];
  const rawFull: number[] = [];
  const incr: number[] = [];
  const rawIncr: number[] = [];
  const rawPush: number[] = [];
  const rawIncrPush: number[] = [];
  const rawUnsafe: number[] = [];
  // The raw commits go where Gantry's checkpoints go: the mirror's origin (the project remote), each as a new ref.
  const pushRaw = (sha: string, ref: string): number => {
    const t = process.hrtime.bigint();
    git(w.path, ['push', '--quiet', repo, `${sha}:refs/bench-raw/${ref}`]);
    return ms(t);
  };
  const commit: number[] = [];
  const hashAll: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    writeFileSync(join(w.path, 'pkg1', 'src', 'm1.ts'), `export const changed = ${i};\n`);
    // Not racy-safe (a fresh mtime vouches for entries written in the checkout's last second): for comparison only.
    rmSync(rawIndex, { force: true });
    let t = process.hrtime.bigint();
    copyFileSync(ownIndex, rawIndex);
    git(w.path, ['add', '-A'], { GIT_INDEX_FILE: rawIndex });
    const unsafeSha = git(w.path, ['commit-tree', git(w.path, ['write-tree'], { GIT_INDEX_FILE: rawIndex }), '-p', 'HEAD', '-m', 'raw']);
    rawUnsafe.push(ms(t) + pushRaw(unsafeSha, `unsafe-${i}`));

    rmSync(rawIndex, { force: true });
    t = process.hrtime.bigint();
    copyFileSync(ownIndex, rawIndex);
    const own = statSync(ownIndex);
    utimesSync(rawIndex, own.atime, own.mtime);
    git(w.path, ['add', '-A'], { GIT_INDEX_FILE: rawIndex });
    const tree = git(w.path, ['write-tree'], { GIT_INDEX_FILE: rawIndex });
    const rawSha = git(w.path, ['commit-tree', tree, '-p', 'HEAD', '-m', 'raw']);
    rawFull.push(ms(t));
    rawPush.push(rawFull.at(-1)! + pushRaw(rawSha, `full-${i}`));

    // For scale: a snapshot that must hash every file (no index to trust), as a tool without one would.
    const emptyIndex = join(root, 'empty.index');
    rmSync(emptyIndex, { force: true });
    t = process.hrtime.bigint();
    git(w.path, ['add', '-A'], { GIT_INDEX_FILE: emptyIndex });
    git(w.path, ['write-tree'], { GIT_INDEX_FILE: emptyIndex });
    hashAll.push(ms(t));

    rmSync(privateIndex, { force: true });
    t = process.hrtime.bigint();
    await ws.checkpoint(warm, { reason: 'bench-full' });
    full.push(ms(t));

    // One file changes; both sides reuse their private index.
    writeFileSync(join(w.path, 'pkg2', 'src', 'm2.ts'), `export const incr = ${i};\n`);
    t = process.hrtime.bigint();
    git(w.path, ['add', '-A'], { GIT_INDEX_FILE: rawIndex });
    const tree2 = git(w.path, ['write-tree'], { GIT_INDEX_FILE: rawIndex });
    const rawSha2 = git(w.path, ['commit-tree', tree2, '-p', 'HEAD', '-m', 'raw']);
    rawIncr.push(ms(t));
    rawIncrPush.push(rawIncr.at(-1)! + pushRaw(rawSha2, `incr-${i}`));
    t = process.hrtime.bigint();
    await ws.checkpoint(warm, { reason: 'bench-incremental' });
    incr.push(ms(t));

    // The floor every recorded checkpoint pays and raw git does not: one durable store commit.
    t = process.hrtime.bigint();
    await store.write(async (tx) => tx.emit({ type: 'bench.commit' }));
    commit.push(ms(t));
  }

  const rows: [string, number[], string, number[], string][] = [
    ['provision (no setup)', prov, 'git worktree add', raw, '≤ 1.15×'],
    ['full checkpoint (pushed)', full, 'raw snapshot + git push', rawPush, '≤ 1.2×'],
    ['full checkpoint (pushed)', full, 'raw snapshot, no push', rawFull, '—'],
    ['full checkpoint (pushed)', full, 'raw, index not racy-safe, + push', rawUnsafe, '—'],
    ['incremental checkpoint (1 file)', incr, 'raw incr. snapshot + push', rawIncrPush, '—'],
    ['incremental checkpoint (1 file)', incr, 'raw incr. snapshot, no push', rawIncr, '—'],
  ];
  // Median and minimum: on a shared machine the minimum is the least-disturbed run of each side.
  console.log(`\nworkspace bench: ${FILES} files, ${ROUNDS} rounds, ms (median / min)\n`);
  console.log(`${'operation'.padEnd(32)}${'gantry'.padStart(16)}   ${'raw git operation'.padEnd(33)}${'raw'.padStart(16)}${'ratio med'.padStart(10)}${'ratio min'.padStart(10)}  target`);
  const f = (xs: number[]) => `${median(xs).toFixed(1)} / ${Math.min(...xs).toFixed(1)}`;
  for (const [name, g, rawName, r, target] of rows) {
    console.log(
      `${name.padEnd(32)}${f(g).padStart(16)}   ${rawName.padEnd(33)}${f(r).padStart(16)}${`${(median(g) / median(r)).toFixed(2)}×`.padStart(10)}${`${(Math.min(...g) / Math.min(...r)).toFixed(2)}×`.padStart(10)}  ${target}`,
    );
  }
  // Where provisioning spends its time, from its own step events (median over the timed rounds).
  const steps = new Map<string, number[]>();
  for (const e of await store.events.list({ limit: 1000 })) {
    if (e.type !== 'workspace.step_completed') continue;
    const name = String(e.payload.step);
    steps.set(name, [...(steps.get(name) ?? []), Number(e.payload.durationMs)]);
  }
  console.log(`\none durable store commit (included in every checkpoint, absent from raw git): ${median(commit).toFixed(1)} ms median`);
  console.log(`provision steps (median ms): ${[...steps].map(([n, xs]) => `${n} ${median(xs)}`).join(' · ')}`);
  console.log(`incremental checkpoint = ${((median(incr) / median(full)) * 100).toFixed(1)}% of a full checkpoint (median); a full checkpoint seeds its private index from the worktree's own index, so it too re-hashes only what changed`);
  console.log(`for scale, a raw snapshot hashing every file from an empty index: ${median(hashAll).toFixed(1)} ms median (incremental = ${((median(incr) / median(hashAll)) * 100).toFixed(1)}% of it)`);
  await store.close();
  if (!process.env.KEEP) rmSync(root, { recursive: true, force: true });
}

main().catch((e) => {
  console.error(e);
  rmSync(root, { recursive: true, force: true });
  process.exit(1);
});
