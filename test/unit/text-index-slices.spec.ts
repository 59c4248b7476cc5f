import { stemInSlices, TextIndex } from '@app/memory/vector/in-process/text-index';

/** `n` random lowercase words, none of them seen before (the stem memo has none): a long turn's worst case. */
const unseenWords = (n: number) =>
  Array.from({ length: n }, () => Array.from({ length: 5 + Math.floor(Math.random() * 6) }, () => String.fromCharCode(97 + Math.floor(Math.random() * 26))).join('')).join(' ');

const timed = (f: () => void) => {
  const started = performance.now();
  f();
  return performance.now() - started;
};

/**
 * A retriever adds every stored turn to its full-text index on the event loop that answers searches. MiniSearch's add
 * is synchronous and stems each word: a 2,000-word turn held the loop for 50-100 ms. The words are stemmed in slices
 * first, and the add then only looks them up.
 */
describe('stemInSlices', () => {
  it('yields between slices, and leaves the add only lookups', async () => {
    const index = new TextIndex();
    const [cold, warm] = [unseenWords(6_000), unseenWords(6_000)];
    const coldMs = timed(() => index.add(1, 't', 's', cold));

    let turns = 0;
    let ticking = true;
    const tick = () => {
      turns++;
      if (ticking) setImmediate(tick);
    };
    setImmediate(tick);
    await stemInSlices(warm, undefined);
    ticking = false;
    const warmMs = timed(() => index.add(2, 't', 's', warm));

    expect(turns).toBeGreaterThan(3);
    expect(warmMs).toBeLessThan(coldMs / 2);
    expect(index.search(warm.split(' ')[17], { tenant: 't' }, () => true, 5).map((m) => m.label)).toEqual([2]);
  });
});
