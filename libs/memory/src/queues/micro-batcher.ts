interface Pending<I, O> {
  item: I;
  resolve: (value: O) => void;
  reject: (err: unknown) => void;
}

/**
 * Gathers concurrent calls into batches. An idle batcher flushes on the next turn of the event loop, so a lone
 * item waits for nothing; while a batch is in flight new items accumulate, up to `maxSize` or `maxWaitMs`.
 */
export class MicroBatcher<I, O> {
  private queue: Pending<I, O>[] = [];
  private inFlight = 0;
  private timer?: NodeJS.Timeout;
  private scheduled = false;

  constructor(
    private readonly handle: (items: I[]) => Promise<O[]>,
    private readonly maxSize: number,
    private readonly maxWaitMs: number,
  ) {}

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.queue.length >= this.maxSize) return this.flush();
    if (this.inFlight === 0 && !this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    } else if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), this.maxWaitMs);
    }
  }

  private flush(): void {
    this.scheduled = false;
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.queue.length === 0) return;
    const batch = this.queue.splice(0, this.maxSize);
    this.inFlight++;
    this.handle(batch.map((p) => p.item))
      .then((results) => batch.forEach((p, i) => p.resolve(results[i])))
      .catch((err) => batch.forEach((p) => p.reject(err)))
      .finally(() => {
        this.inFlight--;
        if (this.queue.length > 0) this.schedule();
      });
  }
}
