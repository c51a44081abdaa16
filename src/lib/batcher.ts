// Group commit for requests that one round trip can serve together: requests that arrive while a
// batch is in flight wait for the next one, up to `lanes` batches run at once. `flush` answers each
// request of its batch (same order); if it throws, every request of that batch gets the error.
export class Batcher<In, Out> {
  private readonly queue: Array<{ input: In; resolve: (v: Out) => void; reject: (e: unknown) => void }> = [];
  private running = 0;
  private gathering = false;

  constructor(
    private readonly flush: (inputs: In[]) => Promise<Out[]>,
    private readonly lanes = 1,
    private readonly maxBatch = 32,
    /**
     * A free lane waits for the end of the current turn of the event loop before it starts, so that
     * requests made in the same turn (callers resumed together by the previous batch) go together
     * instead of the first alone: costs one turn of latency, saves a round trip and a commit.
     */
    private readonly gather = false,
    /**
     * With a lane already running, whether the queued requests may run in another one beside it (else
     * they wait for the running lane's next batch). Asked before a lane starts, and before a lane takes
     * its next batch while another runs. Default: always.
     */
    private readonly extraLane: (queued: readonly In[]) => boolean = () => true,
  ) {}

  private mayStart(): boolean {
    return this.running < this.lanes && (this.running === 0 || this.extraLane(this.queue.map((q) => q.input)));
  }

  run(input: In): Promise<Out> {
    return new Promise<Out>((resolve, reject) => {
      this.queue.push({ input, resolve, reject });
      if (!this.mayStart()) return;
      if (!this.gather) void this.drain();
      else if (!this.gathering) {
        this.gathering = true;
        setImmediate(() => {
          this.gathering = false;
          if (!this.mayStart()) return;
          // Free lanes share what the turn gathered, so they run side by side instead of one taking all.
          // (An idle batcher whose requests may not use a second lane starts one.)
          const free = this.running === 0 && !this.extraLane(this.queue.map((q) => q.input)) ? 1 : this.lanes - this.running;
          const share = Math.ceil(this.queue.length / free);
          for (let i = 0; i < free && this.queue.length > 0; i++) void this.drain(share);
        });
      }
    });
  }

  /** `first`: at most this many in the first batch (the rest of the loop takes up to maxBatch). */
  private async drain(first = this.maxBatch): Promise<void> {
    this.running++;
    try {
      while (this.queue.length > 0) {
        if (this.running > 1 && !this.extraLane(this.queue.map((q) => q.input))) break;
        const batch = this.queue.splice(0, Math.min(this.maxBatch, first));
        first = this.maxBatch;
        try {
          const out = await this.flush(batch.map((b) => b.input));
          batch.forEach((b, i) => b.resolve(out[i]!));
        } catch (e) {
          for (const b of batch) b.reject(e);
        }
      }
    } finally {
      this.running--;
    }
  }
}
