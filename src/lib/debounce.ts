// Runs an async action after activity goes quiet (or at the latest maxWaitMs after the first poke),
// never two at once: pokes during a run schedule one more run after it. Used for checkpoints while an
// agent works, so a burst of file writes becomes one checkpoint.
export interface DebounceOptions {
  quietMs: number;
  maxWaitMs: number;
  onError?: (e: unknown) => void;
}

/** When the next run is due: quiet period after the last poke, capped by the max wait since the first. */
export const dueAt = (firstPoke: number, lastPoke: number, o: Pick<DebounceOptions, 'quietMs' | 'maxWaitMs'>): number =>
  Math.min(lastPoke + o.quietMs, firstPoke + o.maxWaitMs);

export class Debouncer {
  private first: number | null = null;
  private last = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;

  constructor(
    private readonly action: () => Promise<unknown>,
    private readonly opts: DebounceOptions,
  ) {}

  /** Activity seen (files changed, an agent turn ended). */
  poke(): void {
    if (this.stopped) return;
    const now = Date.now();
    if (this.first === null) this.first = now;
    this.last = now;
    this.arm();
  }

  private arm(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.first === null || this.running) return;
    this.timer = setTimeout(() => void this.fire(), Math.max(0, dueAt(this.first, this.last, this.opts) - Date.now()));
    this.timer.unref?.();
  }

  private async fire(): Promise<void> {
    this.timer = null;
    if (this.first === null || this.running) return;
    this.first = null;
    this.running = this.action().then(
      () => undefined,
      (e) => this.opts.onError?.(e),
    );
    await this.running;
    this.running = null;
    if (this.first !== null && !this.stopped) this.arm(); // poked while running
  }

  /** Run now if anything is pending (e.g. at a step boundary), and wait for it. */
  async flush(): Promise<void> {
    if (this.running) await this.running;
    if (this.first !== null) await this.fire();
  }

  /** Stop scheduling; a pending run is flushed so no activity goes unsaved. */
  async stop(): Promise<void> {
    await this.flush();
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }
}
