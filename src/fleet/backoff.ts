// Retry delays for transient coordinator trouble: exponential, capped, with deterministic jitter
// supplied by the caller (pure, so the schedule is testable).
export function backoffMs(attempt: number, o: { baseMs: number; maxMs: number; jitter?: number }): number {
  const raw = Math.min(o.maxMs, o.baseMs * 2 ** Math.max(0, attempt));
  const j = o.jitter === undefined ? 1 : 0.5 + o.jitter / 2; // jitter ∈ [0,1] → factor ∈ [0.5, 1]
  return Math.round(raw * j);
}

/** Sleeps `ms`, resolving early (never rejecting) when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done);
  });
}
