// The factory runtime (DESIGN §5, §10): registers by its first heartbeat, keeps heartbeating,
// claims while it has free slots (woken by the coordinator's queue signal, polling only as a
// backstop), runs each task under a LeaseRunner, and drains gracefully. The same class runs
// in-process under `gantry up` and standalone as `gantry factory`; only the client differs.
import { randomBytes } from 'node:crypto';
import { isGantryError } from '../domain/errors.js';
import type { ClaimResponse, CoordinatorClient, FactoryOutbox, OutboxEntry, TaskExecutor } from '../ports/fleet.js';
import { CoordinatorUnreachable } from '../ports/fleet.js';
import { backoffMs, sleep } from './backoff.js';
import { LeaseRunner } from './factory-lease.js';
import { OutboxSender } from './factory-sender.js';

export interface FactoryOptions {
  factoryId: string;
  name?: string;
  capabilities: string[];
  slots: number;
  client: CoordinatorClient;
  executor: TaskExecutor;
  outbox: FactoryOutbox;
  heartbeatMs?: number;
  /** Upper bound between renewals; the runtime also renews at ≤ a third of the remaining TTL. */
  renewEveryMs?: number;
  /** Backstop poll when no wake-up arrives. */
  pollMs?: number;
  /** How long a drain lets in-flight work finish before interrupting it. */
  drainGraceMs?: number;
  /** Strings that must never leave the factory (its token). */
  secrets?: string[];
  /** Names this start of the process; random by default. A new one makes the coordinator reclaim the previous one's leases. */
  incarnation?: string;
  /** Operational log line; ids go in `fields`, never in the message. */
  log?: (msg: string, fields?: Record<string, unknown>) => void;
}

export interface FactoryStatus {
  factoryId: string;
  online: boolean;
  draining: boolean;
  active: Array<{ taskId: string; epoch: number }>;
}

export class Factory {
  private readonly o: Required<Omit<FactoryOptions, 'name'>> & { name: string };
  private readonly sender: OutboxSender;
  private readonly active = new Map<string, { runner: LeaseRunner; done: Promise<void> }>();
  private readonly stopAc = new AbortController();
  private wake = new AbortController();
  private draining = false;
  private coordinatorDrain = false;
  private clockOffset = 0;
  private loops: Promise<void>[] = [];
  private claiming: Promise<void> = Promise.resolve();
  private flushTimer: NodeJS.Timeout | null = null;

  constructor(opts: FactoryOptions) {
    this.o = {
      heartbeatMs: 10_000,
      renewEveryMs: 5 * 60_000,
      pollMs: 30_000,
      drainGraceMs: 60_000,
      secrets: [],
      log: () => undefined,
      name: opts.factoryId,
      incarnation: randomBytes(8).toString('hex'),
      ...opts,
    };
    this.sender = new OutboxSender({ client: opts.client, outbox: opts.outbox, log: (m, f) => this.log(m, f), onFenced: (e) => this.onFenced(e) });
  }

  get id(): string {
    return this.o.factoryId;
  }

  status(): FactoryStatus {
    return {
      factoryId: this.o.factoryId,
      online: this.sender.online,
      draining: this.draining,
      active: [...this.active.values()].map((a) => ({ taskId: a.runner.taskId, epoch: a.runner.epoch })),
    };
  }

  /**
   * Delivers what the previous process left in the outbox, then registers as a new incarnation
   * (retrying until the coordinator answers), which reclaims whatever the previous process still
   * held: its work died with it, so it is requeued now instead of after the stale window.
   */
  async start(): Promise<void> {
    for (let attempt = 0; !this.stopAc.signal.aborted; attempt++) {
      // Reports left by a previous run (crash, outage) go first, while their leases are still held;
      // a stale epoch among them is quarantined.
      if ((await this.sender.flush()) && (await this.heartbeat())) break;
      await sleep(backoffMs(attempt, { baseMs: 250, maxMs: this.o.heartbeatMs }), this.stopAc.signal);
    }
    if (this.stopAc.signal.aborted) return;
    this.log('factory registered', { slots: this.o.slots });
    this.claiming = this.claimLoop();
    this.loops = [this.heartbeatLoop(), this.claiming, this.outboxLoop()];
  }

  /** Graceful: stop claiming, let work finish (up to the grace), interrupt the rest, release, flush. */
  async drain(graceMs = this.o.drainGraceMs): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    this.log('factory draining', { inFlight: this.active.size });
    this.wake.abort();
    // A claim in flight when the drain began may still bring a task: wait for the loop to stop first.
    await this.claiming;
    const all = Promise.all([...this.active.values()].map((a) => a.done));
    const timer = sleep(graceMs, this.stopAc.signal).then(() => 'timeout' as const);
    if ((await Promise.race([all.then(() => 'done' as const), timer])) === 'timeout') {
      for (const a of this.active.values()) a.runner.interrupt('drain');
      await all;
    }
    for (let attempt = 0; attempt < 5 && !(await this.sender.flush()); attempt++) {
      await sleep(backoffMs(attempt, { baseMs: 200, maxMs: 2000 }), this.stopAc.signal);
    }
    await this.shutdown();
  }

  /** During a drain, stop waiting out the grace: interrupt in-flight work now (it still checkpoints and releases). */
  hurry(): void {
    if (!this.draining) return;
    for (const a of this.active.values()) a.runner.interrupt('drain');
  }

  /** Hard stop (tests, fatal errors): abandon in-flight work locally, send nothing more. */
  async stop(): Promise<void> {
    for (const a of this.active.values()) a.runner.interrupt('stop');
    await Promise.all([...this.active.values()].map((a) => a.done));
    await this.shutdown();
  }

  private async shutdown(): Promise<void> {
    this.stopAc.abort();
    this.wake.abort();
    if (this.flushTimer) clearTimeout(this.flushTimer);
    await Promise.all(this.loops);
  }

  private async heartbeat(): Promise<boolean> {
    try {
      const sentAt = Date.now();
      const r = await this.o.client.heartbeat({
        factoryId: this.o.factoryId,
        name: this.o.name,
        capabilities: this.o.capabilities,
        slots: this.o.slots,
        health: { status: this.draining ? 'draining' : 'ok', outboxOnline: this.sender.online },
        load: { active: this.active.size, slots: this.o.slots },
        incarnation: this.o.incarnation,
      });
      this.clockOffset = r.serverTime - Math.round((sentAt + Date.now()) / 2);
      if (r.drain !== this.coordinatorDrain) {
        this.coordinatorDrain = r.drain;
        this.log(r.drain ? 'coordinator asked this factory to drain: no new claims' : 'drain lifted: claiming again');
        this.wake.abort();
      }
      return true;
    } catch (e) {
      if (!(e instanceof CoordinatorUnreachable)) this.log('heartbeat refused', { err: e instanceof Error ? e.message : String(e) });
      return false;
    }
  }

  private async heartbeatLoop(): Promise<void> {
    while (!this.stopAc.signal.aborted) {
      await sleep(this.o.heartbeatMs, this.stopAc.signal);
      if (this.stopAc.signal.aborted) return;
      const wasOnline = this.sender.online;
      if ((await this.heartbeat()) && !wasOnline) void this.sender.flush();
    }
  }

  private async outboxLoop(): Promise<void> {
    // Offline-degrade: while reports wait, retry with backoff; each success resets it.
    for (let attempt = 0; !this.stopAc.signal.aborted; ) {
      if (this.sender.online) {
        attempt = 0;
        await sleep(this.o.pollMs, this.stopAc.signal);
        // Backstop: a report queued after the last pass (no lease left to flush it) still goes out.
        if (!this.stopAc.signal.aborted && (await this.o.outbox.pending()).length > 0) await this.sender.flush();
        continue;
      }
      await sleep(backoffMs(attempt++, { baseMs: 250, maxMs: Math.max(1000, this.o.heartbeatMs) }), this.stopAc.signal);
      if (this.stopAc.signal.aborted) return;
      await this.sender.flush();
    }
  }

  private async claimLoop(): Promise<void> {
    let version = 0;
    let failures = 0;
    while (!this.stopAc.signal.aborted && !this.draining) {
      if (this.wake.signal.aborted) this.wake = new AbortController();
      const wake = this.wake.signal;
      if (this.active.size >= this.o.slots || this.coordinatorDrain) {
        await sleep(this.o.pollMs, wake);
        continue;
      }
      try {
        const grant = await this.o.client.claim(this.o.factoryId, this.o.capabilities);
        failures = 0;
        if (grant) {
          this.run(grant);
          continue;
        }
        version = await this.o.client.waitForWork(version, this.o.pollMs, wake);
      } catch (e) {
        if (!(e instanceof CoordinatorUnreachable)) this.log('claim failed', { err: e instanceof Error ? e.message : String(e) });
        await sleep(backoffMs(failures++, { baseMs: 250, maxMs: this.o.pollMs }), wake);
      }
    }
  }

  private run(grant: ClaimResponse): void {
    const runner = new LeaseRunner(grant.job, grant, {
      factoryId: this.o.factoryId,
      client: this.o.client,
      outbox: this.o.outbox,
      sender: this.sender,
      executor: this.o.executor,
      log: (m, f) => this.log(m, f),
      serverNow: () => Date.now() + this.clockOffset,
      renewEveryMs: this.o.renewEveryMs,
      secrets: this.o.secrets,
    });
    this.log('task claimed', { taskId: grant.job.id, epoch: grant.leaseEpoch });
    const done = runner
      .run()
      .catch((e: unknown) => this.log('task runner error', { taskId: grant.job.id, epoch: grant.leaseEpoch, err: e instanceof Error ? e.message : String(e) }))
      .finally(() => {
        this.active.delete(grant.job.id);
        this.wake.abort();
      });
    this.active.set(grant.job.id, { runner, done });
  }

  /** A report came back 409. Running work stops and quarantines; finished work is quarantined from its outbox entry. */
  private async onFenced(e: OutboxEntry): Promise<void> {
    const live = this.active.get(e.taskId);
    // Still executing: stop it; it quarantines what it had. Once the executor returned, its release is
    // in the outbox (being refused now) and is quarantined from there, as for a lease already gone.
    if (live && live.runner.epoch === e.epoch && !live.runner.finished) {
      live.runner.fence(`${e.kind} refused`);
      return;
    }
    if (e.kind === 'quarantine') return;
    // The finished work's own report (its release) is the result worth keeping, if it is still queued.
    const release = (await this.o.outbox.pending()).find((p) => p.taskId === e.taskId && p.epoch === e.epoch && p.kind === 'release');
    const result = release?.body ?? e.body;
    await this.o.outbox.dropLease(e.taskId, e.epoch);
    await this.o.outbox.quarantine({ taskId: e.taskId, epoch: e.epoch, reason: `fenced: ${e.kind} refused after the lease was lost`, result });
    await this.o.outbox.add({ taskId: e.taskId, epoch: e.epoch, kind: 'quarantine', body: { factoryId: this.o.factoryId, reason: `${e.kind} refused: stale epoch` } });
    this.log('result quarantined: its lease was reclaimed meanwhile', { taskId: e.taskId, epoch: e.epoch });
  }

  private log(msg: string, fields?: Record<string, unknown>): void {
    this.o.log(msg, fields);
  }
}

export const isFenced = (e: unknown): boolean => isGantryError(e) && e.code === 'stale_epoch';
