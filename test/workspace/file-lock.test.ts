// The cross-process repository lock: a holder SIGKILLed at any instant never wedges it, and
// processes racing for it (also while breaking a dead holder's file) never hold it together.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { withFileLock } from '../../src/workspace/file-lock.js';

const LOCK_MODULE = fileURLToPath(new URL('../../src/workspace/file-lock.ts', import.meta.url));

/** A node process running `body` (an async function body) with `withFileLock` and fs helpers in scope. */
function child(body: string, ...args: string[]) {
  const code = `import { withFileLock } from ${JSON.stringify(LOCK_MODULE)};
import * as fs from 'node:fs';
const argv = process.argv.slice(1);
${body}`;
  return spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
}

const exited = (c: ReturnType<typeof spawn>): Promise<number | null> => new Promise((r) => c.on('exit', (code) => r(code)));

/** A pid that certainly belonged to a process that has exited. */
const deadPid = (): number => Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout.trim());

describe('file lock', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gantry-lock-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('a holder SIGKILLed while holding it does not wedge the next taker', async () => {
    const lock = join(dir, 'killed.lock');
    const holder = child(`await withFileLock(argv[0], async () => { process.stdout.write('held'); await new Promise(() => setInterval(() => {}, 1000)); });`, lock);
    await new Promise<void>((r) => holder.stdout!.once('data', () => r()));
    assert.equal(readFileSync(lock, 'utf8'), String(holder.pid), 'the lock file names its holder');
    holder.kill('SIGKILL');
    await exited(holder);
    assert.equal(await withFileLock(lock, async () => 'taken'), 'taken');
    assert.equal(existsSync(lock), false, 'released');
  });

  it('an empty, garbled or own-pid lock file (left by a crash) is broken, never waited on forever', { timeout: 20_000 }, async () => {
    // Own pid: a file left by an earlier process with this pid (pid 1 of a restarted container).
    for (const content of ['', 'not-a-pid', String(process.pid)]) {
      const lock = join(dir, `left-${content.length}.lock`);
      writeFileSync(lock, content);
      assert.equal(await withFileLock(lock, async () => 'taken'), 'taken');
    }
  });

  it('processes racing for it (while a dead holder\'s file is being broken) never hold it together', async () => {
    const lock = join(dir, 'race.lock');
    const counter = join(dir, 'counter');
    const inside = join(dir, 'inside');
    writeFileSync(counter, '0');
    writeFileSync(lock, String(deadPid()));
    // Each round: mark "inside" exclusively (fails if another holder is inside), read-modify-write the counter.
    const body = `for (let i = 0; i < 25; i++) await withFileLock(argv[0], async () => {
  fs.writeFileSync(argv[2], String(process.pid), { flag: 'wx' });
  const n = Number(fs.readFileSync(argv[1], 'utf8'));
  await new Promise((r) => setImmediate(r));
  fs.writeFileSync(argv[1], String(n + 1));
  fs.rmSync(argv[2]);
});`;
    const kids = Array.from({ length: 4 }, () => child(body, lock, counter, inside));
    assert.deepEqual(await Promise.all(kids.map(exited)), [0, 0, 0, 0]);
    assert.equal(readFileSync(counter, 'utf8'), '100');
    assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('race.lock')), [], 'no lock, guard or private file left behind');
  });
});
