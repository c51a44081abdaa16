// The in-process CoordinatorClient (`gantry up`'s own factory): direct calls, no HTTP.
// Store failures surface as CoordinatorUnreachable so the factory treats them as transient.
import { isGantryError } from '../domain/errors.js';
import type { CheckpointPointer, Stage } from '../domain/task.js';
import { CoordinatorUnreachable, type ClaimResponse, type CoordinatorClient, type HeartbeatFacts, type ReleaseOutcome, type Report } from '../ports/fleet.js';
import type { FleetCoordinator } from './coordinator.js';

async function guard<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (isGantryError(e) && e.code !== 'internal') throw e;
    throw new CoordinatorUnreachable(e instanceof Error ? e.message : String(e), e);
  }
}

export class LocalClient implements CoordinatorClient {
  private readonly caller: { factoryId: string };

  constructor(
    private readonly c: FleetCoordinator,
    factoryId: string,
  ) {
    this.caller = { factoryId };
  }

  heartbeat(hb: HeartbeatFacts): Promise<{ serverTime: number; drain: boolean }> {
    return guard(() => this.c.heartbeat(hb, this.caller));
  }

  claim(factoryId: string, capabilities: string[]): Promise<ClaimResponse | null> {
    return guard(async () => {
      const g = await this.c.claim({ factoryId, capabilities }, this.caller);
      return g ? { job: g.task, leaseEpoch: g.leaseEpoch, leaseExpiresAt: g.leaseExpiresAt } : null;
    });
  }

  patch(taskId: string, body: { leaseEpoch: number; stage: Stage; checkpoint?: CheckpointPointer | null }): Promise<void> {
    return guard(async () => void (await this.c.patch(taskId, body, this.caller)));
  }

  renew(taskId: string, leaseEpoch: number): Promise<{ leaseExpiresAt: number }> {
    return guard(() => this.c.renew(taskId, { leaseEpoch }, this.caller));
  }

  release(taskId: string, body: { leaseEpoch: number; outcome: ReleaseOutcome; report: Report; checkpoint?: CheckpointPointer | null }): Promise<void> {
    return guard(async () => void (await this.c.release(taskId, body, this.caller)));
  }

  quarantine(taskId: string, body: { factoryId: string; leaseEpoch: number; reason: string }): Promise<void> {
    return guard(async () => void (await this.c.quarantine(taskId, body, this.caller)));
  }

  waitForWork(since: number, timeoutMs: number, signal: AbortSignal): Promise<number> {
    return guard(() => this.c.waitForWork(since, timeoutMs, signal));
  }
}
