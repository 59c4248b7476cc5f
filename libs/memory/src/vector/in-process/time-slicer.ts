/** Mirror adds, snapshot pieces and token counts are synchronous: yield after this long so searches are not held up. */
const SLICE_MS = 4;

/**
 * Sliced work that has used its slice, waiting for its turn. One slice runs per turn of the event loop, whatever the
 * number of sliced tasks: when each yielded with its own setImmediate, twenty of one tenant's long texts made every
 * turn 80 ms long, and another tenant's search, which needs several turns, waited for each of them.
 */
const waiting: (() => void)[] = [];
let pumping = false;

function pump(): void {
  waiting.shift()?.();
  pumping = waiting.length > 0;
  if (pumping) setImmediate(pump);
}

/**
 * When the running slice began. The budget is shared: tasks that start within one turn (twenty requests' token counts
 * validated together) share its slice, where each task's own clock let every one of them run a full slice first.
 */
let sliceStarted = -Infinity;

/**
 * Resolves at once while the running slice of synchronous work is young, else once the caller's turn comes: sliced
 * work awaits it between its pieces. The budget is the event loop's, not the task's, so there is nothing per task.
 */
export function nextSlice(): Promise<void> | undefined {
  if (performance.now() - sliceStarted < SLICE_MS) return undefined;
  return new Promise<void>((resolve) => {
    waiting.push(() => {
      sliceStarted = performance.now();
      resolve();
    });
    if (!pumping) {
      pumping = true;
      setImmediate(pump);
    }
  });
}
