// Per-key FIFO locks that exist only while someone holds or waits for them: an entry is created on
// first use and removed when its last user leaves, so a long-running coordinator's map stays bounded
// by the number of sessions in flight, not by every session it has ever seen.
import { Mutex } from '../lib/mutex.js';

interface Entry {
  mutex: Mutex;
  refs: number;
}

export class LockMap {
  private readonly entries = new Map<string, Entry>();

  /** Runs fn with the key held; callers of one key run one at a time, in arrival order. */
  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    let e = this.entries.get(key);
    if (!e) {
      e = { mutex: new Mutex(), refs: 0 };
      this.entries.set(key, e);
    }
    // The reference is taken before waiting, so the entry cannot be evicted under a waiter.
    e.refs++;
    const entry = e;
    try {
      return await entry.mutex.run(fn);
    } finally {
      if (--entry.refs === 0) this.entries.delete(key);
    }
  }

  /** Keys currently held or awaited. */
  get size(): number {
    return this.entries.size;
  }
}
