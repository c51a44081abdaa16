// One claimed task on a factory: runs the executor under a LeaseHandle, renews the lease at ≤ TTL/3
// (retrying transient failures), and ends in exactly one of: released (via the durable outbox) or
// quarantined (fenced: the lease is gone, so the result must never be pushed, merged or shipped).
import { GantryError, isGantryError } from '../domain/errors.js';
import type { CheckpointPointer, Stage, Task } from '../domain/task.js';
import {
  CoordinatorUnreachable,
  type ClaimResponse,
  type CoordinatorClient,
  type ExecutionResult,
  type FactoryOutbox,
  type LeaseHandle,
  type ReleaseOutcome,
  type TaskExecutor,
} from '../ports/fleet.js';
import { backoffMs, sleep } from './backoff.js';
import { redact, secretsOf } from './redact.js';
import type { OutboxSender } from './factory-sender.js';

export interface LeaseDeps {
  factoryId: string;
  client: CoordinatorClient;
  outbox: FactoryOutbox;
  sender: OutboxSender;
  executor: TaskExecutor;
  log: (msg: string, fields?: Record<string, unknown>) => void;
  /** Local estimate of the store clock (heartbeat offset applied). */
  serverNow: () => number;
  renewEveryMs: number;
  /** Secrets besides the task body that must never leave (the factory's own token). */
  secrets: readonly string[];
}

export type EndReason = 'fenced' | 'drain' | 'stop';

export class LeaseRunner {
  readonly taskId: string;
  readonly epoch: number;
  private expiresAt: number;
  private readonly ac = new AbortController();
  private readonly renewStop = new AbortController();
  private ended: EndReason | null = null;
  private executed = false;
  private readonly secrets: string[];

  constructor(
    private readonly job: Task,
    grant: ClaimResponse,
    private readonly d: LeaseDeps,
  ) {
    this.taskId = job.id;
    this.epoch = grant.leaseEpoch;
    this.expiresAt = grant.leaseExpiresAt;
    this.secrets = secretsOf(job.body, d.secrets);
  }

  /** The executor has returned and its release is queued: a refusal now is the release's to quarantine. */
  get finished(): boolean {
    return this.executed;
  }

  get fenced(): boolean {
    return this.ended === 'fenced';
  }

  /** The lease is gone (409): stop the work now. */
  fence(why: string): void {
    if (this.ended === 'fenced') return;
    this.ended = 'fenced';
    this.d.log('task fenced; stopping', { taskId: this.taskId, epoch: this.epoch, why });
    this.ac.abort(new GantryError('stale_epoch', `lease ${this.taskId}@${this.epoch} lost: ${why}`));
  }

  /** Drain past its grace, or a hard stop: abort the executor without claiming the lease was lost. */
  interrupt(reason: 'drain' | 'stop'): void {
    if (this.ended) return;
    this.ended = reason;
    this.ac.abort(new Error(`factory ${reason}`));
  }

  async run(): Promise<void> {
    const renewing = this.renewLoop();
    let result: ExecutionResult;
    try {
      result = await this.d.executor.execute(this.job, this.handle());
    } catch (e) {
      result = { outcome: 'failed', report: { failureKind: 'unknown', failureMessage: e instanceof Error ? e.message : String(e) } };
    }
    this.renewStop.abort();
    await renewing;
    const safe = redact(result, this.secrets);
    // Until its release is queued, a refusal the sender meets fences this runner (which quarantines the
    // result here, once: a second fence is a no-op); after that, the factory quarantines from the queued release.
    if (this.ended === 'fenced') return this.quarantine('fenced: lease lost while running', { ...safe });
    if (this.ended === 'stop') return;
    const outcome: ReleaseOutcome = this.ended === 'drain' && safe.outcome === 'failed' ? 'abandoned' : safe.outcome;
    const report = this.ended === 'drain' && outcome === 'abandoned' ? { ...safe.report, reason: 'drain' } : safe.report;
    await this.d.outbox.add({ taskId: this.taskId, epoch: this.epoch, kind: 'release', body: { outcome, report, checkpoint: safe.checkpoint ?? null } });
    this.executed = true;
    this.d.log('task released', { taskId: this.taskId, epoch: this.epoch, outcome });
    await this.d.sender.flush();
  }

  /** Keeps the local result out of every push or merge, records it, and tells the coordinator. */
  async quarantine(reason: string, result: Record<string, unknown>): Promise<void> {
    await this.d.outbox.dropLease(this.taskId, this.epoch);
    await this.d.outbox.quarantine({ taskId: this.taskId, epoch: this.epoch, reason, result: redact(result, this.secrets) });
    await this.d.outbox.add({ taskId: this.taskId, epoch: this.epoch, kind: 'quarantine', body: { factoryId: this.d.factoryId, reason } });
    this.d.log('result quarantined', { taskId: this.taskId, epoch: this.epoch, reason });
    await this.d.sender.flush();
  }

  private handle(): LeaseHandle {
    return {
      taskId: this.taskId,
      epoch: this.epoch,
      signal: this.ac.signal,
      report: async (stage: Stage, checkpoint?: CheckpointPointer | null) => {
        if (this.ended === 'fenced') throw this.ac.signal.reason as Error;
        await this.d.outbox.add({ taskId: this.taskId, epoch: this.epoch, kind: 'patch', body: { stage, checkpoint: checkpoint ?? null } });
        await this.d.sender.flush();
        // A 409 on this report fenced us during the flush: the executor must stop.
        if (this.fenced) throw this.ac.signal.reason as Error;
      },
    };
  }

  private async renewLoop(): Promise<void> {
    const stop = this.renewStop.signal;
    while (!stop.aborted && !this.ac.signal.aborted) {
      const remaining = this.expiresAt - this.d.serverNow();
      await sleep(Math.max(50, Math.min(this.d.renewEveryMs, remaining / 3)), stop);
      if (stop.aborted || this.ac.signal.aborted) return;
      for (let attempt = 0; attempt < 4 && !stop.aborted; attempt++) {
        try {
          this.expiresAt = (await this.d.client.renew(this.taskId, this.epoch)).leaseExpiresAt;
          break;
        } catch (e) {
          if (isGantryError(e) && e.code === 'stale_epoch') return this.fence('renew refused');
          if (!(e instanceof CoordinatorUnreachable)) {
            this.d.log('lease renewal failed', { taskId: this.taskId, epoch: this.epoch, err: e instanceof Error ? e.message : String(e) });
          }
          // Transient: retry soon, then keep working until the next renewal window (offline-degrade).
          await sleep(backoffMs(attempt, { baseMs: Math.min(1000, this.d.renewEveryMs / 10), maxMs: this.d.renewEveryMs / 3 }), stop);
        }
      }
    }
  }
}
