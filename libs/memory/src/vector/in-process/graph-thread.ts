import { Worker } from 'node:worker_threads';
import { type GraphReply, type GraphRequest, type GraphThreadInit, graphThreadBody } from './graph-thread-body';

/** How long the thread links at once: a graph search waits for at most one chunk. */
const CHUNK_MS = 4;
/**
 * The thread's nice value: during a flood it links at about one core, which on a small machine the API's, the
 * embedder's and the retriever's own event loops need first (a vector is searchable before it is linked).
 */
const NICE = 10;

export interface GraphHit {
  label: number;
  similarity: number;
}

/** A graph search's hits, and how many adds the graph held when it ran (see GraphReply). */
export interface GraphHits {
  hits: GraphHit[];
  linked: number;
}

type Pending = { resolve: (reply: GraphReply) => void; reject: (err: Error) => void };

/**
 * An hnswlib graph on its own thread, so that its inserts (1-3 ms each at 1024 dimensions) never hold up the
 * caller's event loop. Adds are numbered in order and sent in batches once per turn of the event loop; the thread
 * links them a chunk at a time and answers searches between chunks. A thread that fails (an add or delete threw, or
 * it died) rejects every search from then on.
 */
export class GraphThread {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private outbox: { label: number; unit: Float32Array }[] = [];
  private flushing?: NodeJS.Immediate;
  private settling: (() => void)[] = [];
  private failure?: Error;
  private readonly exited: Promise<void>;
  /** Adds numbered so far. */
  private added = 0;
  /** Adds the thread has handled, as it last said. */
  linked = 0;
  capacity: number;
  /** Resolves with the graph's size once it is initialised or read; rejects if the file could not be read. */
  readonly ready: Promise<number>;
  /** Called after `linked` grew. */
  onLinked: () => void = () => undefined;

  constructor(init: Omit<GraphThreadInit, 'hnswlib' | 'chunkMs' | 'nice'>) {
    this.capacity = init.capacity;
    this.worker = new Worker(`(${graphThreadBody.toString()})()`, {
      eval: true,
      workerData: { ...init, hnswlib: require.resolve('hnswlib-node'), chunkMs: CHUNK_MS, nice: NICE } satisfies GraphThreadInit,
    });
    this.ready = new Promise((resolve, reject) => {
      this.worker.once('message', (reply: GraphReply) => (reply.op === 'ready' && !reply.error ? resolve(reply.count) : reject(new Error(`reading the graph failed: ${reply.op === 'ready' && reply.error}`))));
    });
    this.ready.catch(() => undefined); // a caller that reads no file need not wait for it
    this.worker.on('message', (reply: GraphReply) => this.receive(reply));
    this.worker.on('error', (err) => this.fail(err));
    this.exited = new Promise((resolve) => {
      this.worker.once('exit', (code) => {
        this.fail(new Error(`the graph thread exited (${code})`));
        resolve();
      });
    });
  }

  /** Numbers an add and queues it for the next batch; returns its number. */
  add(label: number, unit: Float32Array): number {
    this.outbox.push({ label, unit });
    this.flushing ??= setImmediate(() => this.flush());
    return ++this.added;
  }

  delete(labels: number[]): void {
    if (labels.length === 0) return;
    this.flush();
    this.post({ op: 'delete', labels: Uint32Array.from(labels) });
  }

  get settled(): boolean {
    return this.linked === this.added;
  }

  /** Resolves once every add so far is linked. */
  settle(): Promise<void> {
    this.flush();
    if (this.settled) return Promise.resolve();
    return new Promise((resolve) => this.settling.push(resolve));
  }

  /** The k nearest linked vectors (only labels in `allow`, if given), best first. */
  async search(query: Float32Array, k: number, ef: number, allow?: number[]): Promise<GraphHits> {
    const reply = await this.request((id) => ({ op: 'search', id, query: query.slice(), k, ef, allow: allow && Uint32Array.from(allow) }));
    if (reply.op !== 'found') throw new Error(`unexpected reply ${reply.op}`);
    return { hits: reply.labels.map((label, i) => ({ label, similarity: 1 - reply.distances[i] })), linked: reply.linked };
  }

  /** Links every add so far, then writes the graph in hnswlib's format. */
  async write(file: string): Promise<void> {
    this.flush();
    await this.request((id) => ({ op: 'write', id, file }));
  }

  /** Ends the thread between two of its chunks (terminate() could stop it inside hnswlib, which aborts the process). */
  async close(): Promise<void> {
    clearImmediate(this.flushing);
    this.post({ op: 'close' });
    this.fail(new Error('the graph thread was closed'));
    await this.exited;
  }

  private flush(): void {
    clearImmediate(this.flushing);
    this.flushing = undefined;
    if (this.outbox.length === 0) return;
    const dim = this.outbox[0].unit.length;
    const labels = new Uint32Array(this.outbox.length);
    const units = new Float32Array(this.outbox.length * dim);
    this.outbox.forEach(({ label, unit }, i) => {
      labels[i] = label;
      units.set(unit, i * dim);
    });
    this.outbox = [];
    this.post({ op: 'add', labels, units }, [labels.buffer, units.buffer]);
  }

  private post(msg: GraphRequest, transfer: ArrayBuffer[] = []): void {
    if (!this.failure) this.worker.postMessage(msg, transfer);
  }

  private request(msg: (id: number) => GraphRequest): Promise<GraphReply> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.post(msg(id));
    });
  }

  private receive(reply: GraphReply): void {
    if (reply.op === 'ready') return;
    if (reply.linked > this.linked) {
      this.linked = reply.linked;
      if (this.settled) this.settling.splice(0).forEach((resolve) => resolve());
      this.onLinked();
    }
    if (reply.op === 'linked') {
      this.capacity = reply.capacity;
      return;
    }
    const request = this.pending.get(reply.id);
    this.pending.delete(reply.id);
    if (reply.op === 'failed') request?.reject(new Error(reply.error));
    else request?.resolve(reply);
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const request of this.pending.values()) request.reject(this.failure);
    this.pending.clear();
  }
}
