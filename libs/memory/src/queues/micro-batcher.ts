interface Pending<I, O> {
  item: I;
  resolve: (value: O) => void;
  reject: (err: unknown) => void;
}

export interface MicroBatcherOptions {
  maxSize: number;
  maxWaitMs: number;
  /**
   * Whether an error may be one item's fault although it failed the whole batch (a provider refusing a request for
   * one bad input): the batch is then split in halves and each handled again, until the offending item is alone
   * and only it fails.
   */
  isolate?: (err: unknown) => boolean;
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
    private readonly options: MicroBatcherOptions,
  ) {}

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.queue.length >= this.options.maxSize) return this.flush();
    if (this.inFlight === 0 && !this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    } else if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), this.options.maxWaitMs);
    }
  }

  private flush(): void {
    this.scheduled = false;
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.queue.length === 0) return;
    this.inFlight++;
    void this.run(this.queue.splice(0, this.options.maxSize)).finally(() => {
      this.inFlight--;
      if (this.queue.length > 0) this.schedule();
    });
  }

  /** Settles every item of the batch; never rejects. */
  private async run(batch: Pending<I, O>[]): Promise<void> {
    try {
      const results = await this.handle(batch.map((p) => p.item));
      batch.forEach((p, i) => p.resolve(results[i]));
    } catch (err) {
      if (batch.length > 1 && this.options.isolate?.(err)) {
        const half = Math.ceil(batch.length / 2);
        await Promise.all([this.run(batch.slice(0, half)), this.run(batch.slice(half))]);
      } else {
        batch.forEach((p) => p.reject(err));
      }
    }
  }
}
