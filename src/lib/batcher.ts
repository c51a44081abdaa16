// Group commit for requests that one round trip can serve together: requests that arrive while a
// batch is in flight wait for the next one, up to `lanes` batches run at once. `flush` answers each
// request of its batch (same order); if it throws, every request of that batch gets the error.
export class Batcher<In, Out> {
  private readonly queue: Array<{ input: In; resolve: (v: Out) => void; reject: (e: unknown) => void }> = [];
  private running = 0;

  constructor(
    private readonly flush: (inputs: In[]) => Promise<Out[]>,
    private readonly lanes = 1,
    private readonly maxBatch = 32,
  ) {}

  run(input: In): Promise<Out> {
    return new Promise<Out>((resolve, reject) => {
      this.queue.push({ input, resolve, reject });
      if (this.running < this.lanes) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.running++;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.maxBatch);
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
