import { execFileSync } from 'node:child_process';
import { repoRoot } from '../../apps/cli/src/stack/stack';
import { asksWhen, datesIn, eventDate } from '@app/memory/time/text-dates';

const REF = Date.UTC(2023, 4, 8, 13, 56); // Monday 8 May 2023, 13:56 UTC
const DAY = 86_400_000;

describe('dates in text', () => {
  it('reads a day, a month and a year as the span each names', () => {
    expect(datesIn('What did she do on 25 May 2023?', REF)).toEqual([{ start: Date.UTC(2023, 4, 25), end: Date.UTC(2023, 4, 26) }]);
    expect(datesIn('What did Mel paint in June 2022?', REF)).toEqual([{ start: Date.UTC(2022, 5, 1), end: Date.UTC(2022, 6, 1) }]);
  });

  it('resolves relative times against the reference time', () => {
    expect(datesIn('I went to a support group yesterday', REF)).toEqual([{ start: Date.UTC(2023, 4, 7), end: Date.UTC(2023, 4, 7) + DAY }]);
    expect(eventDate('I went to a support group yesterday', REF)).toBe(Date.UTC(2023, 4, 7));
    const [ago] = datesIn('two years ago I started painting', REF);
    expect(new Date(ago.start).getUTCFullYear()).toBe(2021);
  });

  it('finds nothing in a text without dates, and tells a "when" question', () => {
    expect(datesIn('I have 2 kids and a dog', REF)).toEqual([]);
    expect(eventDate('I have 2 kids and a dog', REF)).toBeUndefined();
    expect(asksWhen('When did Caroline go to the support group?')).toBe(true);
    expect(asksWhen('What year did they move?')).toBe(true);
    expect(asksWhen('What did Caroline research?')).toBe(false);
  });

  it('reads dates only in a bounded prefix, so a long turn costs a bounded parse', () => {
    const filler = 'We talked about the garden and the weather. '.repeat(100);
    expect(datesIn(`yesterday ${filler}`, REF)).toHaveLength(1);
    expect(datesIn(`${filler} yesterday`, REF)).toEqual([]);
  });
});

describe('reading dates right after start-up', () => {
  it('costs the first search no compilation of chrono\'s patterns (120 ms of a quiet core when only warmed once)', () => {
    // A fresh process: V8 compiles a regular expression to native code on its second run, in whichever call that is.
    // CPU time, not wall time: a busy machine's waits for a core are not the call's cost.
    const script = "const t = require('./dist/libs/memory/src/time/text-dates.js'); const c = process.cpuUsage(); t.datesIn('x'.repeat(2000), 0); const d = process.cpuUsage(c); console.log((d.user + d.system) / 1000);";
    const firstMs = Number(execFileSync(process.execPath, ['-e', script], { cwd: repoRoot(), encoding: 'utf8' }));
    expect(firstMs).toBeLessThan(30);
  });
});
