// The clock forge polling runs on (hosted checks, review waits): injected in tests, so a poll loop is
// exercised without waiting and without timing assertions.
export interface HostedClock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const realClock: HostedClock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise((r) => {
      const t = setTimeout(r, ms);
      signal?.addEventListener('abort', () => { clearTimeout(t); r(); }, { once: true });
    }),
};
