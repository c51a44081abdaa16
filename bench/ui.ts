// bench/ui: how long from an event committed in the store to the change rendered on the dashboard
// (DOM updated and the next frame drawn), with 200 tasks on the board, in Debian's Chromium.
// Beneath it, the raw operation in the same run: the same event arriving at a bare EventSource in
// the same page (commit → SSE delivery, no refetch, no React).
// It also prints the built dashboard's size (web/dist/assets, raw and gzip): what a first visit loads
// (index.html's script and stylesheet) and the chunks loaded on demand (the Markdown renderer).
//   node --import tsx bench/ui.ts          (BENCH_N events, default 100; BENCH_TASKS, default 200)
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCoordinator } from '../src/app/coordinator.js';
import { resolveHome } from '../src/app/home.js';
import { silentLogger } from '../src/api/logger.js';
import type { Stage } from '../src/domain/task.js';
import { makeRepo } from '../test/support/git.js';
import { browserUnavailable, launchBrowser } from '../test/web/browser.js';
import { printTable, ratio } from './lib.js';

const N = Number(process.env.BENCH_N ?? 100);
const TASKS = Number(process.env.BENCH_TASKS ?? 200);
const BURST = Math.min(50, TASKS);

const why = browserUnavailable();
if (why) {
  console.error(`bench/ui needs a browser: ${why}`);
  process.exit(1);
}

const now = () => performance.timeOrigin + performance.now();
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

const homeDir = mkdtempSync(join(tmpdir(), 'gantry-bench-ui-'));
const repo = makeRepo();
const c = await startCoordinator({ home: resolveHome(homeDir), port: 0, host: '127.0.0.1', factories: 0, logger: silentLogger });
const browser = await launchBrowser();
try {
  const store = c.store;
  const project = (await store.projects.create({ name: 'bench', path: repo, defaultBranch: 'main', config: {} })).id;
  const ids: string[] = [];
  for (let i = 0; i < TASKS; i++) {
    const { task } = await store.tasks.submit({ projectId: project, title: `Bench task ${i}`, body: '', pipeline: 'standard', agent: null, priority: i % 5, capabilities: [], after: [], idempotencyKey: null, maxAttempts: 3 });
    ids.push(task.id);
  }
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  // tsx keeps function names with an `__name` helper that functions sent to the page would miss.
  await context.addInitScript({ content: 'globalThis.__name = (f) => f;' });
  const page = await context.newPage();
  await page.goto(`${c.url}/#token=${encodeURIComponent(c.adminToken)}`);
  await page.locator('[data-testid="conn"].conn-live').waitFor();
  await page.waitForFunction((n) => document.querySelectorAll('[data-task]').length >= n, TASKS);
  // The raw path: a bare EventSource in the same page, recording when each seq arrives.
  await page.evaluate((token) => {
    const w = window as unknown as { rawAt: Record<number, number>; rawOpen: Promise<void> };
    w.rawAt = {};
    w.rawOpen = new Promise((resolve) => {
      const es = new EventSource(`/api/events/stream?access_token=${encodeURIComponent(token)}`);
      es.onopen = () => resolve();
      es.onmessage = (m) => (w.rawAt[Number(m.lastEventId)] = performance.timeOrigin + performance.now());
    });
  }, c.adminToken);
  await page.evaluate(() => (window as unknown as { rawOpen: Promise<void> }).rawOpen);

  /** Arms an observer in the page that resolves when every (id, stage) pair is rendered and a frame has been drawn. */
  const arm = (targets: Array<[string, Stage]>) =>
    page.evaluate((t) => {
      const w = window as unknown as { done: Promise<number> };
      w.done = new Promise((resolve) => {
        const ready = () => t.every(([id, stage]) => document.querySelector(`[data-task="${id}"][data-stage="${stage}"]`));
        const obs = new MutationObserver(() => {
          if (!ready()) return;
          obs.disconnect();
          requestAnimationFrame(() => resolve(performance.timeOrigin + performance.now()));
        });
        obs.observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-stage'] });
      });
    }, targets);
  const moveOne = async (id: string): Promise<{ committed: number; seq: number; stage: Stage }> => {
    const t = (await store.tasks.get(id))!;
    const stage: Stage = t.stage === 'queued' ? 'building' : 'queued';
    await store.tasks.setStage(id, t.rev, stage, null, { type: 'task.stage_changed', payload: { from: t.stage, to: stage } });
    const committed = now();
    return { committed, seq: await store.events.latestSeq(), stage };
  };

  const render: number[] = [];
  const raw: number[] = [];
  for (let i = 0; i < N + 10; i++) {
    const id = ids[(i * 37) % ids.length]!;
    const t = (await store.tasks.get(id))!;
    await arm([[id, t.stage === 'queued' ? 'building' : 'queued']]);
    const m = await moveOne(id);
    const shown = await page.evaluate(() => (window as unknown as { done: Promise<number> }).done);
    const arrived = await page.evaluate((seq) => (window as unknown as { rawAt: Record<number, number> }).rawAt[seq]!, m.seq);
    if (i < 10) continue; // warm-up
    render.push(shown - m.committed);
    raw.push(arrived - m.committed);
  }

  // A burst: BURST tasks change at once; the dashboard coalesces refetches.
  const bursts: number[] = [];
  const rawBursts: number[] = [];
  for (let b = 0; b < 5; b++) {
    const chosen = Array.from({ length: BURST }, (_, k) => ids[(b * BURST + k) % ids.length]!);
    const targets: Array<[string, Stage]> = [];
    for (const id of chosen) targets.push([id, (await store.tasks.get(id))!.stage === 'queued' ? 'building' : 'queued']);
    await arm(targets);
    const start = now();
    let lastSeq = 0;
    for (const id of chosen) lastSeq = (await moveOne(id)).seq;
    const shown = await page.evaluate(() => (window as unknown as { done: Promise<number> }).done);
    await page.waitForFunction((seq) => (window as unknown as { rawAt: Record<number, number> }).rawAt[seq] !== undefined, lastSeq);
    const arrived = await page.evaluate((seq) => (window as unknown as { rawAt: Record<number, number> }).rawAt[seq]!, lastSeq);
    bursts.push(shown - start);
    rawBursts.push(arrived - start);
  }

  printTable(`bench/ui — ${TASKS} tasks on the board, ${N} single events, 5 bursts of ${BURST} (ms; ratio against raw SSE delivery in the same page)`, ['path', 'p50 ms', 'p99 ms', 'ratio p50'], [
    ['raw: commit → EventSource message', pct(raw, 50), pct(raw, 99), '1.00×'],
    ['dashboard: commit → card rendered', pct(render, 50), pct(render, 99), ratio(pct(render, 50), pct(raw, 50))],
    [`raw: ${BURST} commits → last message`, pct(rawBursts, 50), pct(rawBursts, 99), '1.00×'],
    [`dashboard: ${BURST} commits → all rendered`, pct(bursts, 50), pct(bursts, 99), ratio(pct(bursts, 50), pct(rawBursts, 50))],
  ]);
  printBundle();
} finally {
  await browser.close();
  await c.close();
  rmSync(homeDir, { recursive: true, force: true });
  rmSync(repo, { recursive: true, force: true });
}

/** The built dashboard's assets: loaded on the first visit (referenced by index.html) or on demand. */
function printBundle(): void {
  const dist = new URL('../web/dist/', import.meta.url);
  const index = readFileSync(new URL('index.html', dist), 'utf8');
  const kb = (n: number) => (n / 1024).toFixed(1);
  const rows = readdirSync(new URL('assets/', dist)).map((f) => {
    const buf = readFileSync(new URL(`assets/${f}`, dist));
    return { f, raw: buf.length, gz: gzipSync(buf).length, initial: index.includes(`/assets/${f}`) };
  });
  const sum = (xs: typeof rows) => xs.reduce((a, r) => [a[0]! + r.raw, a[1]! + r.gz], [0, 0]);
  const [iRaw, iGz] = sum(rows.filter((r) => r.initial));
  printTable('bench/ui — dashboard bundle (web/dist/assets, KiB)', ['asset', 'loaded', 'raw KiB', 'gzip KiB'], [
    ...rows.map((r) => [r.f, r.initial ? 'first visit' : 'on demand', kb(r.raw), kb(r.gz)]),
    ['total on the first visit', '', kb(iRaw!), kb(iGz!)],
  ]);
}
