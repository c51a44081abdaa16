// A lock per path that holds across processes: an in-process FIFO mutex (so callers in one process
// queue instead of polling) around a lock file holding the owner's pid. The file appears whole (its
// content is written to a private file first, then hard-linked into place), so a holder killed at
// any instant leaves a file naming a dead pid, which the next taker breaks: a crash never wedges
// the repository.
//
// Breaking is serialized by a guard file (`<lock>.break`, taken the same way): under it, the lock
// file can only change by its holder's release, and a stale holder never releases, so "still the
// dead holder's file → unlink" cannot remove a live lock. A breaker killed inside the guard (a few
// microseconds) leaves a guard naming a dead pid, which the next breaker removes.
import { randomBytes } from 'node:crypto';
import { readFile, unlink, writeFile } from 'node:fs/promises';
import { linkNew } from '../lib/link-new.js';
import { Mutex } from '../lib/mutex.js';

const mutexes = new Map<string, { mutex: Mutex; users: number }>();

export const pidAlive = (pid: number): boolean => {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The pid a lock file names; `null` when there is no file, `undefined` when it cannot be read now. */
async function holderOf(path: string): Promise<number | null | undefined> {
  try {
    return Number((await readFile(path, 'utf8')).trim());
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT' ? null : undefined;
  }
}

/**
 * Nobody holds a file naming a dead pid (an empty or garbled one included: files are linked whole).
 * Nor one naming this process: its callers are serialized by the in-process mutex, so such a file
 * was left by an earlier process that had the same pid (pid 1 of a restarted container).
 */
const stale = (pid: number): boolean => pid === process.pid || !pidAlive(pid);

/** False when another breaker is at work (the caller waits a little and looks again). */
async function breakStale(lockPath: string, mine: string): Promise<boolean> {
  const guard = `${lockPath}.break`;
  if (!(await linkNew(mine, guard))) {
    const breaker = await holderOf(guard);
    if (typeof breaker === 'number' && stale(breaker)) await unlink(guard).catch(() => undefined);
    return false;
  }
  try {
    const holder = await holderOf(lockPath);
    if (typeof holder === 'number' && stale(holder)) await unlink(lockPath).catch(() => undefined);
  } finally {
    await unlink(guard).catch(() => undefined);
  }
  return true;
}

async function acquireFile(lockPath: string): Promise<void> {
  const mine = `${lockPath}.${process.pid}-${randomBytes(4).toString('hex')}`;
  await writeFile(mine, String(process.pid));
  try {
    for (let attempt = 0; ; attempt++) {
      if (await linkNew(mine, lockPath)) return;
      const holder = await holderOf(lockPath);
      if (holder === null) continue; // released meanwhile
      if (holder !== undefined && stale(holder) && (await breakStale(lockPath, mine))) continue;
      await pause(Math.min(2 + attempt * 2, 50));
    }
  } finally {
    await unlink(mine).catch(() => undefined);
  }
}

/** In-process: serialize work on one key. Reference-counted so the map stays bounded. */
export async function withKeyLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
  let entry = mutexes.get(key);
  if (!entry) mutexes.set(key, (entry = { mutex: new Mutex(), users: 0 }));
  entry.users++;
  try {
    return await entry.mutex.run(fn);
  } finally {
    if (--entry.users === 0) mutexes.delete(key);
  }
}

/** Run `fn` holding the lock named by `lockPath` (a file path; its directory must exist), across processes. */
export function withFileLock<T>(lockPath: string, fn: () => Promise<T>): Promise<T> {
  return withKeyLock(`file:${lockPath}`, async () => {
    await acquireFile(lockPath);
    try {
      return await fn();
    } finally {
      await unlink(lockPath).catch(() => undefined);
    }
  });
}
