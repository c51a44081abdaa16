// The clock forge polling runs on (hosted checks, review waits): injected in tests, so a poll loop is
// exercised without waiting and without timing assertions.
import { concerns, type WakeTarget, type WakeTopic } from '../domain/forge/webhook.js';

export interface HostedClock {
  now(): number;
  /** `topic`: what the poll waits on, so only a delivery about it ends the sleep early. */
  sleep(ms: number, signal?: AbortSignal, topic?: WakeTopic): Promise<void>;
}

/** Wakes the forge polls sleeping on what a webhook delivery is about (check run finished, review
 *  submitted), so it is acted on at once; polling stays the fallback when no webhook reaches this process. */
export class ForgeWake {
  private waiters = new Map<() => void, WakeTopic | undefined>();

  /** Resolves when a `wake()` concerning `topic` is called (or never): race it against a timer. */
  next(signal?: AbortSignal, topic?: WakeTopic): { promise: Promise<void>; cancel(): void } {
    let done!: () => void;
    const promise = new Promise<void>((r) => (done = r));
    const fire = (): void => { this.waiters.delete(fire); done(); };
    this.waiters.set(fire, topic);
    signal?.addEventListener('abort', fire, { once: true });
    return { promise, cancel: () => this.waiters.delete(fire) };
  }

  /** How many polls are sleeping now. */
  sleepers(): number {
    return this.waiters.size;
  }

  /** Wakes the sleepers waiting now that `target` concerns (all of them without a target); returns how many. */
  wake(target?: WakeTarget): number {
    const now = [...this.waiters].filter(([, topic]) => concerns(topic, target)).map(([w]) => w);
    for (const w of now) w();
    return now.length;
  }
}

/** The process's wake signal: the webhook route fires it, the real clock's sleeps listen to it. */
export const forgeWake = new ForgeWake();

export function wakeableClock(wake: ForgeWake): HostedClock {
  return {
    now: () => Date.now(),
    sleep: (ms, signal, topic) => {
      const woken = wake.next(signal, topic);
      let t: NodeJS.Timeout | undefined;
      const timer = new Promise<void>((r) => (t = setTimeout(r, ms)));
      return Promise.race([timer, woken.promise]).finally(() => { clearTimeout(t); woken.cancel(); });
    },
  };
}

export const realClock: HostedClock = wakeableClock(forgeWake);
