import stem from 'wink-porter2-stemmer';
import { stemInSlices, TextIndex } from '@app/memory/vector/in-process/text-index';
import { countLoopTurns } from '../support/loop-turns';

// The real stemmer, counted: the add after stemInSlices must not call it (a count, not a timing a busy machine moves).
jest.mock('wink-porter2-stemmer', () => jest.fn(jest.requireActual('wink-porter2-stemmer')));
const stemCalls = () => (stem as unknown as jest.Mock).mock.calls.length;

/** `n` random lowercase words, none of them seen before (the stem memo has none): a long turn's worst case. */
const unseenWords = (n: number) =>
  Array.from({ length: n }, () => Array.from({ length: 5 + Math.floor(Math.random() * 6) }, () => String.fromCharCode(97 + Math.floor(Math.random() * 26))).join('')).join(' ');

/**
 * A retriever adds every stored turn to its full-text index on the event loop that answers searches. MiniSearch's add
 * is synchronous and stems each word: a 2,000-word turn held the loop for 50-100 ms. The words are stemmed in slices
 * first, and the add then only looks them up.
 */
describe('stemInSlices', () => {
  it('yields between slices, and leaves the add only lookups', async () => {
    const index = new TextIndex();
    const [cold, warm] = [unseenWords(6_000), unseenWords(6_000)];
    index.add(1, 't', 's', cold);
    expect(stemCalls()).toBeGreaterThan(5_000);

    const loop = countLoopTurns();
    await stemInSlices(warm, undefined);
    loop.stop();
    const beforeAdd = stemCalls();
    index.add(2, 't', 's', warm);

    expect(loop.turns).toBeGreaterThan(3);
    expect(stemCalls()).toBe(beforeAdd);
    expect(index.search(warm.split(' ')[17], { tenant: 't' }, () => true, 5).map((m) => m.label)).toEqual([2]);
  });
});
