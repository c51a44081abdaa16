// Composes the lifecycle for a coordinator: manager, notification channels, boot reconciliation and
// the tick loop that drives every time-based rule. `close()` stops the loop and drains sends.
import type { Logger } from '../api/logger.js';
import { notificationsSchema, type NotificationsConfig } from '../config/notifications.js';
import { LifecycleManager } from '../lifecycle/manager.js';
import { LifecycleEvidenceSink } from '../lifecycle/evidence-sink.js';
import { NotificationService } from '../lifecycle/notifications.js';
import { pidProber } from '../lifecycle/pid-prober.js';
import { buildChannels } from '../notify/channels.js';
import type { ChannelDirectory, ChannelSet, InputSink, RuntimeProber } from '../ports/lifecycle.js';
import type { Store } from '../ports/store.js';
import type { ChangeObserver } from '../ports/engine.js';
import { changeFactOf } from '../domain/lifecycle-rules/scm.js';
import { isGantryError } from '../domain/errors.js';
import { lifecycleStore } from '../store/session-repo.js';
import { remoteSessionsWithoutLease } from '../store/remote-session-repo.js';
import { endLostRemoteSessions } from '../lifecycle/remote-evidence.js';

export interface LifecycleRuntime {
  manager: LifecycleManager;
  /** The ActivitySink for the agent launcher and the agent-hook route: evidence → lifecycle. */
  evidence: LifecycleEvidenceSink;
  close(): Promise<void>;
}

export interface LifecycleWiring {
  store: Store;
  logger: Logger;
  notifications?: NotificationsConfig;
  /** Hands queued input to agents; without one, input waits in the queue. */
  sink?: InputSink;
  /** Probes session processes; default: pid probes for sessions run by this process's factories (factoryId null). */
  prober?: RuntimeProber;
  tickMs?: number;
}

/** Sessions of remote factories cannot be probed here: report "unavailable", which is never evidence (rule 1). */
function localPidProber(): RuntimeProber {
  const pid = pidProber();
  return {
    probe: async (s) => (s.factoryId === null
      ? pid.probe(s)
      : { value: { state: 'unknown' }, confidence: 'unavailable', source: 'process', at: Date.now(), launchGeneration: s.launchGeneration }),
  };
}

const DEFAULT_ESCALATE_MS = 15 * 60_000;

const channelSet = (cfg: NotificationsConfig | undefined): ChannelSet => ({
  channels: buildChannels(cfg),
  routing: cfg?.routing ?? {},
  escalateAfterMs: cfg?.escalateAfter === undefined ? DEFAULT_ESCALATE_MS : cfg.escalateAfter,
});

/**
 * Each project's `notifications:` from its stored gantry.yaml; projects that configure no channels
 * use the coordinator's. Built channels are cached per project until its section changes.
 */
export function projectChannelDirectory(store: Store, fallback: NotificationsConfig | undefined, log: Logger): ChannelDirectory {
  const base = channelSet(fallback);
  const cache = new Map<string, { key: string; set: ChannelSet }>();
  return {
    async forProject(projectId) {
      if (!projectId) return base;
      const raw = (await store.projects.get(projectId))?.config.notifications;
      const key = JSON.stringify(raw ?? null);
      const hit = cache.get(projectId);
      if (hit && hit.key === key) return hit.set;
      const parsed = notificationsSchema.safeParse(raw ?? {});
      if (!parsed.success) log.error('invalid notifications config; using the coordinator channels', { projectId, issue: parsed.error.issues[0]?.message ?? '' });
      const own = parsed.success && Object.keys(parsed.data.channels ?? {}).length > 0 ? channelSet(parsed.data) : base;
      // A project may keep the coordinator's channels but set its own escalation delay.
      const set = parsed.success && own === base && parsed.data.escalateAfter !== undefined ? { ...base, escalateAfterMs: parsed.data.escalateAfter } : own;
      cache.set(projectId, { key, set });
      return set;
    },
  };
}

/**
 * The one path from an SCM observation to a session's change axis (the engine's SCM steps today, a
 * forge adapter's PR states and reviews later): decided by `changeFactOf`, applied as valid evidence.
 */
export function lifecycleChanges(manager: Pick<LifecycleManager, 'applyChange'>, now: () => number = Date.now): ChangeObserver {
  return {
    async observe({ sessionId, observation }) {
      try {
        await manager.applyChange(sessionId, { value: changeFactOf(observation), confidence: 'valid', source: 'scm', at: now(), launchGeneration: 0 });
      } catch (e) {
        // A session launched without lifecycle records (no coordinator wiring) has nothing to show.
        if (!(isGantryError(e) && e.code === 'not_found')) throw e;
      }
    },
  };
}

export async function startLifecycle(w: LifecycleWiring): Promise<LifecycleRuntime> {
  const store = lifecycleStore(w.store);
  const clock = { now: () => Date.now() };
  const cfg = w.notifications;
  const notifications = new NotificationService({ store, clock, directory: projectChannelDirectory(w.store, cfg, w.logger) });
  for (const ch of buildChannels(cfg)) {
    const why = ch.unavailable();
    if (why) w.logger.info('notification channel unavailable', { channel: ch.name, why });
  }
  const manager = new LifecycleManager({ store, clock, notifications, prober: w.prober ?? localPidProber(), ...(w.sink ? { sink: w.sink } : {}) });
  try {
    const r = await manager.reconcile();
    if (r.probed > 0) w.logger.info('lifecycle reconciled', r);
  } catch (e) {
    w.logger.error('lifecycle reconcile failed', { err: String(e) });
  }
  let running: Promise<unknown> | null = null;
  const timer = setInterval(() => {
    if (running) return;
    running = manager
      .tick()
      // Remote sessions whose lease ended without their end reported (their factory died or was fenced).
      .then(() => endLostRemoteSessions(manager, () => remoteSessionsWithoutLease(w.store.db)))
      .catch((e: unknown) => w.logger.error('lifecycle tick failed', { err: String(e) }))
      .finally(() => (running = null));
  }, w.tickMs ?? 5000);
  timer.unref();
  const evidence = new LifecycleEvidenceSink(manager, (sessionId, e) => w.logger.error('lifecycle evidence dropped', { sessionId, err: String(e) }));
  return {
    manager,
    evidence,
    async close() {
      clearInterval(timer);
      if (running) await running;
      await evidence.idle();
      await manager.idle();
    },
  };
}
