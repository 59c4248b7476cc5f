/** What a graph thread is started with (its workerData). */
export interface GraphThreadInit {
  /** The resolved path of hnswlib-node: the thread runs from source text, so it cannot resolve modules itself. */
  hnswlib: string;
  dim: number;
  m: number;
  efConstruction: number;
  /** Room for this many vectors in a new graph; doubled when full. */
  capacity: number;
  /** A graph file written by `write` to read instead of starting empty, and how many of its labels are live. */
  file?: string;
  live?: number;
  /** How long the thread links at once before it looks at its messages (searches wait at most this long). */
  chunkMs: number;
  /** The thread's nice value (Linux): linking is background work that must not take a CPU from an event loop. */
  nice: number;
}

/** Messages to the graph thread, handled in the order they are sent. */
export type GraphRequest =
  | { op: 'add'; labels: Uint32Array; units: Float32Array }
  | { op: 'delete'; labels: Uint32Array }
  | { op: 'search'; id: number; query: Float32Array; k: number; ef: number; allow?: Uint32Array }
  | { op: 'write'; id: number; file: string }
  | { op: 'close' };

/**
 * Messages from the graph thread. `linked` counts the adds it has handled (linked, or dropped because their delete
 * came first), in the order they were sent: a search answered at `linked` n saw exactly the first n adds.
 */
export type GraphReply =
  | { op: 'ready'; count: number; error?: string }
  | { op: 'linked'; linked: number; capacity: number }
  | { op: 'found'; id: number; linked: number; labels: number[]; distances: number[] }
  | { op: 'written'; id: number; linked: number }
  | { op: 'failed'; id: number; linked: number; error: string };

/**
 * The graph thread: owns the hnswlib graph, links the vectors it is sent a chunk at a time, and answers searches
 * between chunks. It runs from this function's source text (a worker with `eval`), the same whether the caller runs
 * compiled or under ts-jest, so it must use nothing from outside its own body.
 */
export function graphThreadBody(): void {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { parentPort, workerData } = require('node:worker_threads') as typeof import('node:worker_threads');
  const { readlinkSync } = require('node:fs') as typeof import('node:fs');
  const { setPriority } = require('node:os') as typeof import('node:os');
  const init = workerData as GraphThreadInit;
  const { HierarchicalNSW } = require(init.hnswlib) as typeof import('hnswlib-node');
  /* eslint-enable @typescript-eslint/no-require-imports */
  // On Linux, setpriority on a thread id renices that thread alone; elsewhere there is no thread-self and the thread
  // keeps the process's priority.
  if (process.platform === 'linux') setPriority(Number(readlinkSync('/proc/thread-self').split('/').pop()), init.nice);
  const port = parentPort!;
  const graph = new HierarchicalNSW('cosine', init.dim);
  const queue: { label: number; unit: Float32Array }[] = [];
  let head = 0;
  /** Labels in the queue; those deleted before their turn came are dropped instead of linked. */
  const queued = new Set<number>();
  const dropped = new Set<number>();
  /** Marked-deleted slots that the next adds reuse (allowReplaceDeleted). */
  let deleted = 0;
  let linked = 0;
  let draining = false;

  const linkNext = () => {
    const { label, unit } = queue[head];
    queue[head++] = undefined!;
    queued.delete(label);
    linked++;
    if (dropped.delete(label)) return;
    if (deleted > 0) {
      deleted--;
    } else if (graph.getCurrentCount() >= graph.getMaxElements()) {
      // A graph read from a file has room for what it held only: none, if it was written empty (doubling 0 made
      // hnswlib fail to allocate, then crash the process with a double free).
      graph.resizeIndex(Math.max(graph.getMaxElements() * 2, init.capacity));
    }
    graph.addPoint(Array.from(unit), label, true);
  };
  const compact = () => {
    queue.splice(0, head);
    head = 0;
  };
  const drain = () => {
    const started = performance.now();
    while (head < queue.length && performance.now() - started < init.chunkMs) linkNext();
    if (head > 4096 || head === queue.length) compact();
    port.postMessage({ op: 'linked', linked, capacity: graph.getMaxElements() } satisfies GraphReply);
    draining = queue.length > 0;
    if (draining) setImmediate(drain);
  };

  const handle = async (msg: GraphRequest) => {
    switch (msg.op) {
      case 'add':
        for (let i = 0; i < msg.labels.length; i++) {
          queue.push({ label: msg.labels[i], unit: msg.units.subarray(i * init.dim, (i + 1) * init.dim) });
          queued.add(msg.labels[i]);
        }
        if (!draining) {
          draining = true;
          setImmediate(drain);
        }
        return;
      case 'delete':
        for (const label of msg.labels) {
          if (queued.has(label)) {
            dropped.add(label);
          } else {
            graph.markDelete(label);
            deleted++;
          }
        }
        return;
      case 'search': {
        const live = graph.getCurrentCount() - deleted;
        if (live <= 0) return port.postMessage({ op: 'found', id: msg.id, linked, labels: [], distances: [] } satisfies GraphReply);
        const allow = msg.allow && new Set(msg.allow);
        graph.setEf(Math.max(msg.ef, msg.k));
        const { neighbors, distances } = graph.searchKnn(Array.from(msg.query), Math.min(msg.k, live), allow && ((label) => allow.has(label)));
        return port.postMessage({ op: 'found', id: msg.id, linked, labels: neighbors, distances } satisfies GraphReply);
      }
      case 'write':
        while (head < queue.length) linkNext();
        compact();
        await graph.writeIndex(msg.file);
        return port.postMessage({ op: 'written', id: msg.id, linked } satisfies GraphReply);
      case 'close':
        // Between chunks: a thread terminated inside an hnswlib call takes the whole process down with it.
        return process.exit(0);
    }
  };

  const ready = (async () => {
    if (init.file === undefined) {
      graph.initIndex({ maxElements: init.capacity, m: init.m, efConstruction: init.efConstruction, allowReplaceDeleted: true });
    } else {
      await graph.readIndex(init.file, true);
      // Slots in the graph that no live label holds are marked deleted.
      deleted = graph.getCurrentCount() - (init.live ?? 0);
    }
  })();
  ready.then(
    () => port.postMessage({ op: 'ready', count: graph.getCurrentCount() } satisfies GraphReply),
    (err: Error) => port.postMessage({ op: 'ready', count: 0, error: err.message } satisfies GraphReply),
  );
  port.on('message', (msg: GraphRequest) => {
    void ready.then(() => handle(msg)).catch((err: Error) => {
      // A failed add or delete leaves the graph unlike the mirror: the thread ends, and the caller stops using it.
      if (!('id' in msg)) throw err;
      port.postMessage({ op: 'failed', id: msg.id, linked, error: err.message } satisfies GraphReply);
    });
  });
}
