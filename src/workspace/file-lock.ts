// A lock per path that holds across processes: an in-process FIFO mutex (so callers in one process
// queue instead of polling) around a lock file holding the owner's pid. The file appears whole (its
// content is written to a private file first, then hard-linked into place), so a holder killed at
// any instant leaves a file naming a dead pid, which the next taker breaks: a crash never wedges
// the repository.
import { randomBytes } from 'node:crypto';
import { link, readFile, rename, unlink, writeFile } from 'node:fs/promises';
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
const holderOf = async (path: string): Promise<number | null> => {
  const text = await readFile(path, 'utf8').catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? null : ''));
  return text === null ? null : Number(text.trim());
};

/**
 * Removes a lock file whose holder `dead` is gone. Renaming first means only one breaker takes a
 * given file; if the file moved aside turns out to be a live holder's (it re-took the lock between
 * our read and the rename), it is put back.
 */
async function breakStale(lockPath: string, dead: number): Promise<void> {
  const aside = `${lockPath}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await rename(lockPath, aside);
  } catch {
    return; // someone else broke it first
  }
  const moved = await holderOf(aside);
  if (moved !== dead && moved !== null && pidAlive(moved)) await link(aside, lockPath).catch(() => undefined);
  await unlink(aside).catch(() => undefined);
}

async function acquireFile(lockPath: string): Promise<void> {
  const mine = `${lockPath}.${process.pid}-${randomBytes(4).toString('hex')}`;
  await writeFile(mine, String(process.pid));
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await link(mine, lockPath);
        return;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      const holder = await holderOf(lockPath);
      if (holder === null) continue; // released meanwhile
      // Linked whole, so a live holder is always named; an empty or garbled file was left by a crash.
      if (!pidAlive(holder)) {
        await breakStale(lockPath, holder);
        continue;
      }
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
