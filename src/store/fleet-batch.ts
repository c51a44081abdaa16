// Group commit for the fleet's hot writes. Concurrent claims, reports, renewals and releases that
// arrive while a transaction is committing are run together in the next one, each inside its own
// SAVEPOINT: every unit still decides ownership with its own conditional statement, and a unit that
// fails rolls back alone (its events discarded). One commit and one fsync for the whole batch.
import type { NewEvent } from '../domain/events.js';
import { isGantryError } from '../domain/errors.js';
import type { Store, WriteTx } from '../ports/store.js';
import { Batcher } from '../lib/batcher.js';

interface Unit {
  fn: (tx: WriteTx) => Promise<unknown>;
  /** The unit throws a GantryError only before its first write, so it needs no SAVEPOINT. */
  atomicOnThrow: boolean;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

export class WriteCombiner {
  private readonly batcher: Batcher<Unit, Outcome>;

  /**
   * `lanes` transactions may be open at once (PostgreSQL runs them in parallel; SQLite has one
   * writer, so one lane).
   */
  constructor(
    private readonly store: Store,
    lanes = 1,
    maxBatch = 32,
  ) {
    this.batcher = new Batcher((units) => this.flush(units), lanes, maxBatch);
  }

  async run<T>(fn: (tx: WriteTx) => Promise<T>, opts: { atomicOnThrow?: boolean } = {}): Promise<T> {
    const o = await this.batcher.run({ fn, atomicOnThrow: opts.atomicOnThrow ?? false });
    if (!o.ok) throw o.error;
    return o.value as T;
  }

  private async flush(batch: Unit[]): Promise<Outcome[]> {
    if (batch.length === 1) return [await this.single(batch[0]!)];
    try {
      return await this.together(batch);
    } catch {
      // The shared transaction failed (deadlock with another coordinator, lost connection):
      // nothing of it committed, so each unit gets its own transaction and its own answer.
      const out: Outcome[] = [];
      for (const u of batch) out.push(await this.single(u));
      return out;
    }
  }

  private async single(u: Unit): Promise<Outcome> {
    try {
      return { ok: true, value: await this.store.write(u.fn) };
    } catch (error) {
      return { ok: false, error };
    }
  }

  private async together(batch: Unit[]): Promise<Outcome[]> {
    let outcomes: Outcome[] = [];
    await this.store.write(async (tx) => {
      outcomes = [];
      for (const [i, u] of batch.entries()) {
        const events: NewEvent[] = [];
        const utx: WriteTx = { all: (s, p) => tx.all(s, p), get: (s, p) => tx.get(s, p), run: (s, p) => tx.run(s, p), emit: (e) => void events.push(e) };
        if (!u.atomicOnThrow) await tx.run(`SAVEPOINT fleet_u${i}`);
        try {
          const value = await u.fn(utx);
          if (!u.atomicOnThrow) await tx.run(`RELEASE SAVEPOINT fleet_u${i}`);
          for (const e of events) tx.emit(e);
          outcomes.push({ ok: true, value });
        } catch (error) {
          // Without a savepoint only a decided refusal (GantryError, nothing written) may fail alone;
          // anything else (an SQL error) fails the batch, and every unit is retried on its own.
          if (u.atomicOnThrow && !isGantryError(error)) throw error;
          if (!u.atomicOnThrow) {
            await tx.run(`ROLLBACK TO SAVEPOINT fleet_u${i}`);
            await tx.run(`RELEASE SAVEPOINT fleet_u${i}`);
          }
          outcomes.push({ ok: false, error });
        }
      }
    });
    return outcomes;
  }
}
