import { nextSlice } from '@app/memory/vector/in-process/time-slicer';
import { countLoopTurns } from '../support/loop-turns';

/** Synchronous work of `ms` milliseconds, as a token count or a mirror add is. */
const busy = (ms: number) => {
  const until = performance.now() + ms;
  while (performance.now() < until);
};

describe('nextSlice', () => {
  it('shares one slice per turn of the event loop among tasks that start in the same turn', async () => {
    const loop = countLoopTurns();
    const piecesInTurn = new Map<number, number>();
    // Ten tasks started together (twenty requests validated in one turn), each doing ten 3 ms pieces.
    const task = async () => {
      for (let i = 0; i < 10; i++) {
        await nextSlice();
        busy(3);
        piecesInTurn.set(loop.turns, (piecesInTurn.get(loop.turns) ?? 0) + 1);
      }
    };
    await Promise.all(Array.from({ length: 10 }, task));
    loop.stop();
    // A 4 ms slice holds at most two 3 ms pieces; with a clock per task, each task's first slice ran in the first turn (20 pieces).
    expect(Math.max(...piecesInTurn.values())).toBeLessThanOrEqual(2);
    expect([...piecesInTurn.values()].reduce((a, b) => a + b, 0)).toBe(100);
  });
});
