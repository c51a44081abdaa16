// Sends the factory's outbox to the coordinator, oldest first, one lease's reports in order.
// Transient trouble stops the pass (everything stays queued, retried later with backoff);
// a 409 means the lease was lost: its remaining reports are dropped and its result quarantined.
import { isGantryError } from '../domain/errors.js';
import type { CheckpointPointer, Stage } from '../domain/task.js';
import { CoordinatorUnreachable, type CoordinatorClient, type FactoryOutbox, type OutboxEntry, type ReleaseOutcome, type Report } from '../ports/fleet.js';

/** Rounds of one pass (each follows a 409 that removed at least one entry). */
const MAX_ROUNDS = 100;

export interface SenderDeps {
  client: CoordinatorClient;
  outbox: FactoryOutbox;
  log: (msg: string, fields?: Record<string, unknown>) => void;
  /** A report of this lease came back 409. */
  onFenced(entry: OutboxEntry): Promise<void>;
}

export class OutboxSender {
  private tail: Promise<boolean> = Promise.resolve(true);
  online = true;

  constructor(private readonly d: SenderDeps) {}

  /** Queues a flush pass after any running one; resolves true when the outbox was emptied. */
  flush(): Promise<boolean> {
    const next = this.tail.then(
      () => this.pass(),
      () => this.pass(),
    );
    this.tail = next.catch(() => false);
    return next;
  }

  /**
   * One delivery pass. A 409 drops the rest of its lease and queues a quarantine report: the pass
   * reads the outbox again and goes on, so that report goes out now (not a heartbeat later) and the
   * dropped reports are never sent. Each round removes at least the refused entry; the bound only
   * guards against an onFenced that keeps adding.
   */
  private async pass(): Promise<boolean> {
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const r = await this.round();
      if (r !== 'fenced') return r === 'sent';
    }
    return (await this.d.outbox.pending()).length === 0;
  }

  private async round(): Promise<'sent' | 'unreachable' | 'fenced'> {
    for (const e of await this.d.outbox.pending()) {
      try {
        await this.send(e);
        await this.d.outbox.done(e.id);
        if (!this.online) this.d.log('coordinator reachable again; outbox draining');
        this.online = true;
      } catch (err) {
        if (err instanceof CoordinatorUnreachable) {
          await this.d.outbox.bump(e.id);
          if (this.online) this.d.log('coordinator unreachable; report kept in the outbox', { kind: e.kind, taskId: e.taskId });
          this.online = false;
          return 'unreachable';
        }
        await this.d.outbox.done(e.id);
        if (isGantryError(err) && err.code === 'stale_epoch') {
          // A 409 is an answer: the coordinator is reachable.
          this.online = true;
          await this.d.onFenced(e);
          return 'fenced';
        }
        // A request the coordinator will never accept (e.g. the task is gone): retrying cannot help.
        this.d.log('report dropped', { kind: e.kind, taskId: e.taskId, epoch: e.epoch, err: err instanceof Error ? err.message : String(err) });
      }
    }
    return 'sent';
  }

  private async send(e: OutboxEntry): Promise<void> {
    const b = e.body;
    if (e.kind === 'patch') {
      await this.d.client.patch(e.taskId, { leaseEpoch: e.epoch, stage: b.stage as Stage, checkpoint: (b.checkpoint as CheckpointPointer | null | undefined) ?? null });
    } else if (e.kind === 'release') {
      await this.d.client.release(e.taskId, {
        leaseEpoch: e.epoch,
        outcome: b.outcome as ReleaseOutcome,
        report: (b.report as Report | undefined) ?? {},
        checkpoint: (b.checkpoint as CheckpointPointer | null | undefined) ?? null,
      });
    } else {
      await this.d.client.quarantine(e.taskId, { factoryId: String(b.factoryId), leaseEpoch: e.epoch, reason: String(b.reason) });
    }
  }
}
