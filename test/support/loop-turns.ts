/** Counts turns of the event loop (a setImmediate chain) until stopped: how often synchronous work let the loop run. */
export function countLoopTurns(): { readonly turns: number; stop(): void } {
  let turns = 0;
  let ticking = true;
  const tick = () => {
    turns++;
    if (ticking) setImmediate(tick);
  };
  setImmediate(tick);
  return {
    get turns() {
      return turns;
    },
    stop: () => void (ticking = false),
  };
}
