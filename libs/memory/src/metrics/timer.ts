/** Starts a monotonic stopwatch; the returned function gives the seconds elapsed since. */
export function startTimer(): () => number {
  const start = process.hrtime.bigint();
  return () => Number(process.hrtime.bigint() - start) / 1e9;
}
