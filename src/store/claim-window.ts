// The window of queued tasks that this process's claimers rank from, shared and kept between claims
// so that a claim is usually one statement instead of a read plus a statement. It is only a hint: the
// claim statement re-checks every candidate it is offered, so a stale window costs a retry, never a
// wrong grant, and a claim never answers "nothing to do" from a kept window (see fleet-claim.ts).
// Dropped when work may have been added (this process's commits at once, other processes' through the
// event log), and at least every maxAgeMs.
import type { Candidate } from '../ports/fleet.js';

export interface WindowRead {
  candidates: Candidate[];
  /** Store clock at the read. */
  now: number;
  /** The read hit its limit: more queued tasks exist beyond it. */
  full: boolean;
  /** Every queued task with a workspace affinity is in `candidates` (else claims look their own up). */
  affineComplete: boolean;
}

export interface WindowView extends WindowRead {
  /** Read for this call (true) or kept from an earlier one (false). */
  fresh: boolean;
}

interface Kept {
  byId: Map<string, Candidate>;
  now: number;
  at: number;
  full: boolean;
  affineComplete: boolean;
  gen: number;
}

export class CandidateWindow {
  private kept: Kept | null = null;
  private gen = 0;
  private filling: { gen: number; promise: Promise<Kept> } | null = null;
  /** Candidates a claim statement of this process is trying right now (count per id). */
  private readonly trying = new Map<string, number>();

  constructor(
    private readonly read: () => Promise<WindowRead>,
    private readonly maxAgeMs = 2000,
    private readonly clock: () => number = () => performance.now(),
  ) {}

  /** Forget the window: the next claim reads afresh (and joins no read that began before this call). */
  invalidate(): void {
    this.gen++;
    this.kept = null;
  }

  /** These tasks are taken (or not claimable now): later claims skip them until the next read. */
  drop(ids: Iterable<string>): void {
    if (!this.kept) return;
    for (const id of ids) this.kept.byId.delete(id);
  }

  /**
   * Orders a ranked list so that candidates no concurrent claim of this process is trying come first
   * (each in rank order): the in-process counterpart of SKIP LOCKED, so concurrent claimers offer
   * different rows instead of all queueing on the best one and missing together.
   */
  spread(ranked: readonly string[]): string[] {
    if (this.trying.size === 0) return [...ranked];
    return [...ranked.filter((id) => !this.trying.has(id)), ...ranked.filter((id) => this.trying.has(id))];
  }

  /** Marks `id` as being tried until the returned function is called. */
  try(id: string): () => void {
    this.trying.set(id, (this.trying.get(id) ?? 0) + 1);
    return () => {
      const n = (this.trying.get(id) ?? 1) - 1;
      if (n <= 0) this.trying.delete(id);
      else this.trying.set(id, n);
    };
  }

  async get(fresh = false): Promise<WindowView> {
    const k = this.kept;
    if (!fresh && k && k.gen === this.gen && this.clock() - k.at < this.maxAgeMs) return this.view(k, false);
    return this.view(await this.fill(), true);
  }

  private view(k: Kept, fresh: boolean): WindowView {
    return { candidates: [...k.byId.values()], now: k.now + Math.max(0, this.clock() - k.at), full: k.full, affineComplete: k.affineComplete, fresh };
  }

  /** One read at a time per generation: concurrent claimers share it. */
  private fill(): Promise<Kept> {
    if (this.filling?.gen === this.gen) return this.filling.promise;
    const gen = this.gen;
    const promise = (async (): Promise<Kept> => {
      const at = this.clock();
      const r = await this.read();
      const k: Kept = { byId: new Map(r.candidates.map((c) => [c.id, c])), now: r.now, at, full: r.full, affineComplete: r.affineComplete, gen };
      if (gen === this.gen) this.kept = k;
      return k;
    })().finally(() => {
      if (this.filling?.promise === promise) this.filling = null;
    });
    this.filling = { gen, promise };
    return promise;
  }
}
