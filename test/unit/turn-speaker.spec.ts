import { namesSpeaker, speakerOf } from '@app/memory/store/turn-speaker';
import { words } from '@app/memory/vector/text-terms';

describe('speakerOf', () => {
  it("reads a transcript's speaker label: one to three capitalised words and a colon at the start", () => {
    expect(speakerOf('Melanie: I just signed up for a pottery class.')).toBe('Melanie');
    expect(speakerOf('  John:  Yep, off to taekwondo!')).toBe('John');
    expect(speakerOf('Dr. Ada Lovelace: the engine computes.')).toBe('Dr. Ada Lovelace');
    expect(speakerOf('Zoë: ça va?')).toBe('Zoë');
  });

  it('reads no speaker from a sentence, a lowercase word, a label without a space after it, or a turn without a label', () => {
    expect(speakerOf('Here Is The Plan: first we pack.')).toBeUndefined();
    expect(speakerOf('note: buy milk')).toBeUndefined();
    expect(speakerOf('Melanie:no space')).toBeUndefined();
    expect(speakerOf('I always prefer aisle seats on flights.')).toBeUndefined();
    expect(speakerOf('Meet at 10:30 tomorrow')).toBeUndefined();
    expect(speakerOf('')).toBeUndefined();
  });
});

describe('namesSpeaker', () => {
  const asked = new Set(words("What do Melanie's kids like?"));

  it('is true when the query names a word of the label, in any case, and false otherwise', () => {
    expect(namesSpeaker(asked, 'Melanie')).toBe(true);
    expect(namesSpeaker(new Set(words('what does melanie paint')), 'Melanie Smith')).toBe(true);
    expect(namesSpeaker(asked, 'Caroline')).toBe(false);
    expect(namesSpeaker(asked, undefined)).toBe(false);
  });

  it('ignores function words of a label', () => {
    expect(namesSpeaker(new Set(words('what do you like')), 'You')).toBe(false);
  });
});
