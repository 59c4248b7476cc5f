import { nextSlice } from '@app/memory/vector/in-process/time-slicer';

/** Synchronous work of `ms` milliseconds, as a token count or a mirror add is. */
const busy = (ms: number) => {
  const until = performance.now() + ms;
  while (performance.now() < until);
};

describe('nextSlice', () => {
  it('shares one slice per turn of the event loop among tasks that start in the same turn', async () => {
    let turn = 0;
    let ticking = true;
    const tick = () => {
      turn++;
      if (ticking) setImmediate(tick);
    };
    setImmediate(tick);
    const piecesInTurn = new Map<number, number>();
    // Ten tasks started together (twenty requests validated in one turn), each doing ten 3 ms pieces.
    const task = async () => {
      for (let i = 0; i < 10; i++) {
        await nextSlice();
        busy(3);
        piecesInTurn.set(turn, (piecesInTurn.get(turn) ?? 0) + 1);
      }
    };
    await Promise.all(Array.from({ length: 10 }, task));
    ticking = false;
    // A 4 ms slice holds at most two 3 ms pieces; with a clock per task, each task's first slice ran in the first turn (20 pieces).
    expect(Math.max(...piecesInTurn.values())).toBeLessThanOrEqual(2);
    expect([...piecesInTurn.values()].reduce((a, b) => a + b, 0)).toBe(100);
  });
});
