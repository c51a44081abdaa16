// The clock forge polling runs on (hosted checks, review waits): injected in tests, so a poll loop is
// exercised without waiting and without timing assertions.
export interface HostedClock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** Wakes every forge poll that is sleeping, so a webhook delivery (check run finished, review submitted)
 *  is acted on at once; polling stays the fallback when no webhook reaches this process. */
export class ForgeWake {
  private waiters = new Set<() => void>();

  /** Resolves when `wake()` is called (or never, if it is not): race it against a timer. */
  next(signal?: AbortSignal): { promise: Promise<void>; cancel(): void } {
    let done!: () => void;
    const promise = new Promise<void>((r) => (done = r));
    const fire = (): void => { this.waiters.delete(fire); done(); };
    this.waiters.add(fire);
    signal?.addEventListener('abort', fire, { once: true });
    return { promise, cancel: () => this.waiters.delete(fire) };
  }

  /** Wakes the sleepers waiting now; returns how many there were. */
  wake(): number {
    const now = [...this.waiters];
    for (const w of now) w();
    return now.length;
  }
}

/** The process's wake signal: the webhook route fires it, the real clock's sleeps listen to it. */
export const forgeWake = new ForgeWake();

export function wakeableClock(wake: ForgeWake): HostedClock {
  return {
    now: () => Date.now(),
    sleep: (ms, signal) => {
      const woken = wake.next(signal);
      let t: NodeJS.Timeout | undefined;
      const timer = new Promise<void>((r) => (t = setTimeout(r, ms)));
      return Promise.race([timer, woken.promise]).finally(() => { clearTimeout(t); woken.cancel(); });
    },
  };
}

export const realClock: HostedClock = wakeableClock(forgeWake);
