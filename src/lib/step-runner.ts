// A generic runner for an ordered plan of named steps (workspace provisioning, pipeline bootstrap …).
// Each step is fatal or not, may register cleanup actions for what it created, and may report a skip.
// A fatal failure unwinds the cleanup stack last-in first-out; success disarms it. Events and time are
// injected so the runner holds no store, no clock and no logging of its own.

/** Structural twin of the Clock port (lib may not import ports). */
export interface RunnerClock {
  now(): number;
}

export type StepEvent =
  | { type: 'StepStarted'; step: string; at: number }
  | { type: 'StepCompleted'; step: string; at: number; durationMs: number; detail?: Record<string, unknown> }
  | { type: 'StepSkipped'; step: string; at: number; reason: string }
  | { type: 'StepFailed'; step: string; at: number; durationMs: number; fatal: boolean; error: string }
  | { type: 'CleanupFailed'; step: string; at: number; cleanup: string; error: string };

export type StepEventSink = (event: StepEvent) => void | Promise<void>;

/** What a step's `run` may return: nothing, a skip, or details worth putting on the completion event. */
export type StepOutcome = void | { skipped: string } | { detail: Record<string, unknown> };

export interface StepContext<S> {
  /** State shared along the plan; steps read what earlier steps produced. */
  readonly state: S;
  /** Undo action for something this step created; runs (LIFO) only if a later fatal failure unwinds the plan. */
  registerCleanup(name: string, fn: () => Promise<void> | void): void;
  /** Non-fatal observations (missing optional file …) that belong on the step's completion event. */
  warn(message: string): void;
}

export interface StepDef<S> {
  name: string;
  /** A fatal failure stops the plan and unwinds; a non-fatal one is reported and the plan continues. */
  fatal: boolean;
  /** Setup steps are skipped in lightweight mode. */
  setup?: boolean;
  run(ctx: StepContext<S>): Promise<StepOutcome> | StepOutcome;
}

export interface StepResult {
  step: string;
  status: 'completed' | 'skipped' | 'failed';
  durationMs: number;
  warnings: string[];
  error?: string;
}

export interface PlanResult {
  ok: boolean;
  steps: StepResult[];
  /** The fatal step that stopped the plan. */
  failedStep?: string;
  error?: unknown;
  /** Cleanup actions that themselves failed while unwinding (never hidden). */
  cleanupErrors: { cleanup: string; error: string }[];
}

export interface RunOptions {
  clock: RunnerClock;
  sink?: StepEventSink;
  /** Skip every step marked `setup`. */
  lightweight?: boolean;
}

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

interface Cleanup {
  step: string;
  name: string;
  fn: () => Promise<void> | void;
}

export async function runSteps<S>(plan: readonly StepDef<S>[], state: S, opts: RunOptions): Promise<PlanResult> {
  const { clock } = opts;
  const emit = async (e: StepEvent): Promise<void> => {
    if (opts.sink) await opts.sink(e);
  };
  const stack: Cleanup[] = [];
  const results: StepResult[] = [];
  const cleanupErrors: PlanResult['cleanupErrors'] = [];

  const unwind = async (cleanups: Cleanup[]): Promise<void> => {
    for (const c of cleanups.reverse()) {
      try {
        await c.fn();
      } catch (e) {
        cleanupErrors.push({ cleanup: `${c.step}/${c.name}`, error: message(e) });
        await emit({ type: 'CleanupFailed', step: c.step, at: clock.now(), cleanup: c.name, error: message(e) });
      }
    }
  };

  for (const def of plan) {
    if (opts.lightweight && def.setup) {
      results.push({ step: def.name, status: 'skipped', durationMs: 0, warnings: [] });
      await emit({ type: 'StepSkipped', step: def.name, at: clock.now(), reason: 'lightweight' });
      continue;
    }
    const started = clock.now();
    await emit({ type: 'StepStarted', step: def.name, at: started });
    const own: Cleanup[] = [];
    const warnings: string[] = [];
    const ctx: StepContext<S> = {
      state,
      registerCleanup: (name, fn) => void own.push({ step: def.name, name, fn }),
      warn: (m) => void warnings.push(m),
    };
    try {
      const out = await def.run(ctx);
      stack.push(...own);
      const at = clock.now();
      if (out && 'skipped' in out) {
        results.push({ step: def.name, status: 'skipped', durationMs: at - started, warnings });
        await emit({ type: 'StepSkipped', step: def.name, at, reason: out.skipped });
      } else {
        results.push({ step: def.name, status: 'completed', durationMs: at - started, warnings });
        const detail = { ...(out && 'detail' in out ? out.detail : {}), ...(warnings.length ? { warnings } : {}) };
        await emit({ type: 'StepCompleted', step: def.name, at, durationMs: at - started, ...(Object.keys(detail).length ? { detail } : {}) });
      }
    } catch (e) {
      const at = clock.now();
      results.push({ step: def.name, status: 'failed', durationMs: at - started, warnings, error: message(e) });
      await emit({ type: 'StepFailed', step: def.name, at, durationMs: at - started, fatal: def.fatal, error: message(e) });
      if (def.fatal) {
        // The failed step's own partial work is undone first, then everything before it.
        await unwind([...stack, ...own]);
        return { ok: false, steps: results, failedStep: def.name, error: e, cleanupErrors };
      }
      // A non-fatal step that failed half-way still undoes what it started.
      await unwind(own);
    }
  }
  return { ok: true, steps: results, cleanupErrors };
}
