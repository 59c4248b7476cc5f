import { setImmediate as yieldToEventLoop } from 'node:timers/promises';

/** HNSW inserts are synchronous (~0.1 ms at 64 dims, 1-3 ms at 1536): yield after this long so searches are not held up. */
const SLICE_MS = 4;

/** Resolves at once while the current slice of synchronous work is young, else after yielding to the event loop. */
export function timeSlicer(): () => Promise<void> | undefined {
  let started = performance.now();
  return () => {
    if (performance.now() - started < SLICE_MS) return undefined;
    return yieldToEventLoop().then(() => {
      started = performance.now();
    });
  };
}
