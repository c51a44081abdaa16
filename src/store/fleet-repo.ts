// The FleetStore port over the SQL store: factories (registration, drain, health) here, lease
// ownership in fleet-leases.ts.
import { randomBytes } from 'node:crypto';
import { notFound } from '../domain/errors.js';
import { encodeId } from '../domain/ids.js';
import type { Stage, Task } from '../domain/task.js';
import type {
  FactoryRecord,
  FactoryView,
  FleetSnapshot,
  FleetStore,
  HeartbeatFacts,
  HeartbeatResult,
  LeaseRecord,
  QuarantineRecord,
  Reclaimed,
  RunRecord,
} from '../ports/fleet.js';
import { FleetLeases, reclaimIn } from './fleet-leases.js';
import type { ClaimOptions, ClaimStore } from './fleet-claim.js';
import { LEASED_SQL, toFactory, toLease, toQuarantine, toRun } from './fleet-rows.js';
import { json } from './rows.js';

export class FleetStoreSql extends FleetLeases implements FleetStore {
  constructor(
    private readonly s: ClaimStore,
    opts: ClaimOptions = {},
  ) {
    super(s, opts);
  }

  async enroll(name: string, capabilities: string[]): Promise<FactoryRecord> {
    const id = encodeId('f', randomBytes(5));
    return this.s.write(async (tx) => {
      const row = await tx.get(
        "INSERT INTO factories (id, name, capabilities, state, created_at) VALUES (?, ?, ?, 'enrolled', NOW_MS) RETURNING *",
        [id, name, JSON.stringify(capabilities)],
      );
      tx.emit({ type: 'factory.enrolled', payload: { factoryId: id, name } });
      return toFactory(row!);
    });
  }

  async heartbeat(hb: HeartbeatFacts): Promise<HeartbeatResult> {
    const caps = JSON.stringify(hb.capabilities);
    const health = JSON.stringify(hb.health);
    const load = JSON.stringify(hb.load);
    const common = `capabilities = ?, health = ?, load = ?, slots = COALESCE(?, slots), name = COALESCE(?, name),
      last_heartbeat_at = NOW_MS, state = 'live', rev = rev + 1`;
    const params = [caps, health, load, hb.slots ?? null, hb.name ?? null];
    const inc = hb.incarnation ?? null;
    return this.s.write(async (tx) => {
      // The hot path (an already-live factory, same process as before) writes no event; transitions do.
      let row = await tx.get(`UPDATE factories SET ${common} WHERE id = ? AND state = 'live'${inc === null ? '' : ' AND incarnation = ?'} RETURNING *`, [
        ...params,
        hb.factoryId,
        ...(inc === null ? [] : [inc]),
      ]);
      if (row) return { factory: toFactory(row), registered: false, serverTime: Number(row.last_heartbeat_at), reclaimed: [] };
      let reclaimed: Reclaimed[] = [];
      if (inc !== null) {
        // A new process under a known id: whatever the previous one held is dead with it. The row
        // lock this UPDATE takes orders it against claims (which lock the factory row first).
        const restarted = await tx.get(
          'UPDATE factories SET incarnation = ?, rev = rev + 1 WHERE id = ? AND (incarnation IS NULL OR incarnation <> ?) RETURNING id',
          [inc, hb.factoryId, inc],
        );
        if (restarted) {
          reclaimed = await reclaimIn(tx, 'factory_restarted', `lease_factory_id = ? AND stage IN ${LEASED_SQL}`, [hb.factoryId], { keepAffinity: true });
          if (reclaimed.length > 0) tx.emit({ type: 'factory.restarted', payload: { factoryId: hb.factoryId, reclaimed: reclaimed.map((r) => r.taskId) } });
        }
      }
      row = await tx.get(`UPDATE factories SET ${common} WHERE id = ? AND state = 'enrolled' RETURNING *`, [...params, hb.factoryId]);
      let registered = row !== undefined;
      if (!row) row = await tx.get(`UPDATE factories SET ${common} WHERE id = ? RETURNING *`, [...params, hb.factoryId]);
      if (!row) {
        registered = true;
        row = await tx.get(
          `INSERT INTO factories (id, name, capabilities, health, load, slots, state, last_heartbeat_at, created_at, incarnation)
           VALUES (?, ?, ?, ?, ?, ?, 'live', NOW_MS, NOW_MS, ?) RETURNING *`,
          [hb.factoryId, hb.name ?? hb.factoryId, caps, health, load, hb.slots ?? 1, inc],
        );
      }
      const f = toFactory(row!);
      tx.emit({ type: registered ? 'factory.registered' : 'factory.live', payload: { factoryId: f.id, name: f.name, capabilities: f.capabilities, slots: f.slots } });
      return { factory: f, registered, serverTime: Number(row!.last_heartbeat_at), reclaimed };
    });
  }

  async setDrain(factoryId: string, drain: boolean): Promise<FactoryRecord> {
    return this.s.write(async (tx) => {
      const row = await tx.get('UPDATE factories SET drain = ?, rev = rev + 1 WHERE id = ? RETURNING *', [drain ? 1 : 0, factoryId]);
      if (!row) throw notFound('factory', factoryId, 'list factories with `gantry factories`');
      tx.emit({ type: 'factory.drain', payload: { factoryId, drain } });
      return toFactory(row);
    });
  }

  async job(taskId: string): Promise<Task | undefined> {
    return this.s.tasks.get(taskId);
  }

  async factories(staleMs: number): Promise<FactoryView[]> {
    const now = await this.s.now();
    const rows = await this.s.db.all('SELECT * FROM factories ORDER BY name, id');
    const leases = await this.s.db.all<{ id: string; lease_factory_id: string; lease_epoch: number; stage: string; lease_expires_at: number }>(
      `SELECT id, lease_factory_id, lease_epoch, stage, lease_expires_at FROM tasks WHERE lease_factory_id IS NOT NULL AND stage IN ${LEASED_SQL} ORDER BY id`,
    );
    return rows.map((r) => {
      const f = toFactory(r);
      return {
        ...f,
        live: f.state !== 'enrolled' && f.lastHeartbeatAt !== null && f.lastHeartbeatAt >= now - staleMs,
        leases: leases
          .filter((l) => l.lease_factory_id === f.id)
          .map((l) => ({ taskId: l.id, epoch: Number(l.lease_epoch), stage: l.stage as Stage, expiresAt: Number(l.lease_expires_at) })),
      };
    });
  }

  async leases(taskId: string): Promise<LeaseRecord[]> {
    return (await this.s.db.all('SELECT * FROM leases WHERE task_id = ? ORDER BY epoch', [taskId])).map(toLease);
  }

  async quarantines(limit: number): Promise<QuarantineRecord[]> {
    return (await this.s.db.all('SELECT * FROM fleet_quarantines ORDER BY reported_at DESC LIMIT ?', [limit])).map(toQuarantine);
  }

  async runs(taskId: string): Promise<RunRecord[]> {
    return (await this.s.db.all('SELECT * FROM runs WHERE task_id = ? ORDER BY number', [taskId])).map(toRun);
  }

  async snapshot(staleMs: number): Promise<FleetSnapshot> {
    const now = await this.s.now();
    const hist = await this.s.db.all<{ stage: string; n: number }>('SELECT stage, COUNT(*) AS n FROM tasks GROUP BY stage');
    const oldest = await this.s.db.get<{ m: number | null }>("SELECT MIN(queued_at) AS m FROM tasks WHERE stage = 'queued'");
    const stages: Partial<Record<Stage, number>> = {};
    for (const h of hist) stages[h.stage as Stage] = Number(h.n);
    return {
      now,
      stages,
      oldestQueuedAt: oldest?.m === null || oldest?.m === undefined ? null : Number(oldest.m),
      factories: await this.factories(staleMs),
      version: await this.queueVersion(),
      queued: (
        await this.s.db.all<{ id: string; capabilities: string; agent: string | null }>(
          "SELECT id, capabilities, agent FROM tasks WHERE stage = 'queued' ORDER BY queued_at, id LIMIT 100",
        )
      ).map((r) => ({ id: String(r.id), capabilities: json<string[]>(r.capabilities, []), agent: r.agent === null ? null : String(r.agent) })),
    };
  }

  async queueVersion(): Promise<number> {
    return this.s.events.latestSeq();
  }

  now(): Promise<number> {
    return this.s.now();
  }
}

