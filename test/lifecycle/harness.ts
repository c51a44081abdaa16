// A store-backed lifecycle under test: a project (with optional reactions config), a task, the
// manager with a settable clock, and a sink that records what it was asked to deliver.
import type { Observation } from '../../src/domain/observation.js';
import type { ActivityState, SessionRecord } from '../../src/domain/session.js';
import type { RuntimeFact } from '../../src/domain/lifecycle-rules/runtime.js';
import type { ChangeFact } from '../../src/domain/lifecycle-rules/change.js';
import type { InputSink, NotificationChannel, SinkInput, SinkRefusal } from '../../src/ports/lifecycle.js';
import type { Store } from '../../src/ports/store.js';
import type { GantryEvent } from '../../src/domain/events.js';
import { lifecycleStore } from '../../src/store/session-repo.js';
import { LifecycleManager, type LifecycleManagerOptions } from '../../src/lifecycle/manager.js';
import { NotificationService } from '../../src/lifecycle/notifications.js';
import type { Routing } from '../../src/domain/lifecycle-rules/notification.js';
import { newTask } from '../support/fixtures.js';

export class TestClock {
  constructor(public t = 1_000_000) {}
  now = (): number => this.t;
  advance(ms: number): number {
    this.t += ms;
    return this.t;
  }
}

export class RecordingSink implements InputSink {
  readonly delivered: { sessionId: string; id: string; text: string; generation: number }[] = [];
  failNext = 0;
  /** Set by a test to hold inputs back (InputSink.ready). */
  ready?: (s: SessionRecord, input: SinkInput) => Promise<boolean | SinkRefusal>;
  async deliver(s: SessionRecord, input: { id: string; text: string }): Promise<void> {
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('agent runtime unavailable');
    }
    this.delivered.push({ sessionId: s.id, id: input.id, text: input.text, generation: s.launchGeneration });
  }
}

export interface Harness {
  store: Store;
  clock: TestClock;
  sink: RecordingSink;
  manager: LifecycleManager;
  projectId: string;
  taskId: string;
}

export async function harness(store: Store, opts: {
  reactions?: Record<string, unknown>;
  clock?: TestClock;
  channels?: NotificationChannel[];
  routing?: Routing;
  escalateAfterMs?: number | null;
  extra?: Partial<LifecycleManagerOptions>;
  projectName?: string;
} = {}): Promise<Harness> {
  const name = opts.projectName ?? 'demo';
  const existing = await store.projects.get(name);
  const p = existing ?? await store.projects.create({ name, path: '/tmp/x', defaultBranch: 'main', config: opts.reactions ? { reactions: opts.reactions } : {} });
  const { task } = await store.tasks.submit(newTask(p.id, { idempotencyKey: `lifecycle-${name}` }));
  const clock = opts.clock ?? new TestClock();
  const sink = new RecordingSink();
  const ls = lifecycleStore(store);
  const notifications = new NotificationService({
    store: ls, clock, channels: opts.channels ?? [], routing: opts.routing ?? {},
    escalateAfterMs: opts.escalateAfterMs === undefined ? 60_000 : opts.escalateAfterMs, backoffMs: () => 0,
  });
  const manager = new LifecycleManager({ store: ls, clock, sink, notifications, ...opts.extra });
  return { store, clock, sink, manager, projectId: p.id, taskId: task.id };
}

export const activity = (value: ActivityState, at: number, gen = 1, over: Partial<Observation<ActivityState>> = {}): Observation<ActivityState> =>
  ({ value, confidence: 'valid', source: 'protocol', at, launchGeneration: gen, ...over });
export const runtime = (value: RuntimeFact, at: number, gen = 1, over: Partial<Observation<RuntimeFact>> = {}): Observation<RuntimeFact> =>
  ({ value, confidence: 'valid', source: 'process', at, launchGeneration: gen, ...over });
export const change = (value: ChangeFact, at: number, over: Partial<Observation<ChangeFact>> = {}): Observation<ChangeFact> =>
  ({ value, confidence: 'valid', source: 'protocol', at, launchGeneration: 0, ...over });

export async function sessionEvents(store: Store, sessionId: string): Promise<GantryEvent[]> {
  const all: GantryEvent[] = [];
  let after = 0;
  for (;;) {
    const page = await store.events.list({ after, limit: 1000 });
    if (page.length === 0) break;
    all.push(...page.filter((e) => e.sessionId === sessionId));
    after = page[page.length - 1]!.seq;
  }
  return all;
}

export const types = (es: GantryEvent[]): string[] => es.map((e) => e.type);
export const displays = (es: GantryEvent[]): string[] => es.filter((e) => e.type === 'session.updated').map((e) => String(e.payload.display));
