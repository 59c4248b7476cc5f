import { setImmediate as yieldToEventLoop } from 'node:timers/promises';

/** Mirror adds and snapshot pieces are synchronous: yield after this long so searches are not held up. */
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
