// A lock per path that holds across processes: an in-process FIFO mutex (so callers in one process
// queue instead of polling) around an O_EXCL lock file holding the owner's pid. A lock file whose pid
// is gone (the owner was SIGKILLed) is stale and is broken, so a crash never wedges the repository.
import { open, readFile, unlink } from 'node:fs/promises';
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

async function acquireFile(lockPath: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      const fh = await open(lockPath, 'wx');
      await fh.writeFile(String(process.pid));
      await fh.close();
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const holder = Number((await readFile(lockPath, 'utf8').catch(() => '')).trim());
    // An empty file is a holder between open and write; only a named dead pid is stale.
    if (holder && !pidAlive(holder)) {
      await unlink(lockPath).catch(() => undefined);
      continue;
    }
    await pause(Math.min(2 + attempt * 2, 50));
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
