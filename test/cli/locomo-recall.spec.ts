import { parseSessionDate, readLocomo, toClientId } from '../../apps/cli/src/bench/locomo/locomo-data';
import { RecallTable } from '../../apps/cli/src/bench/locomo/recall-at-k';

/** A made-up conversation in LoCoMo's file format (the real data is never part of the project). */
const file = [
  {
    sample_id: 'conv-x',
    conversation: {
      speaker_a: 'Ann',
      speaker_b: 'Bo',
      session_1_date_time: '1:56 pm on 8 May, 2023',
      session_1: [
        { speaker: 'Ann', dia_id: 'D1:1', text: 'I got a kayak!' },
        { speaker: 'Bo', dia_id: 'D1:2', text: 'Nice. Look at this.', blip_caption: 'a photo of a lake' },
      ],
      session_2_date_time: '10:37 am on 27 June, 2023',
      session_2: [{ speaker: 'Ann', dia_id: 'D2:1', text: 'We paddled all day.' }],
    },
    qa: [
      { question: 'What did Ann get?', answer: 'a kayak', evidence: ['D1:1'], category: 4 },
      { question: 'What did they do?', answer: 'paddle', evidence: ['D1:1; D2:1', 'D1:1'], category: 1 },
      { question: 'Where?', answer: 'a lake', evidence: ['D:1:2', 'D9:9', 'D'], category: 3 },
      { question: 'Lost?', answer: '-', evidence: ['D7:1'], category: 2 },
      { question: 'Trick?', adversarial_answer: 'x', evidence: ['D1:1'], category: 5 },
      { question: 'None?', answer: '-', evidence: [], category: 2 },
    ],
  },
];

describe('LoCoMo recall benchmark: reading the data and scoring', () => {
  it('reads turns with speaker, caption and session-dated timestamps in order', () => {
    const { conversations } = readLocomo(file);
    const [c] = conversations;
    expect(c.id).toBe('conv-x');
    expect(c.turns.map((t) => [t.diaId, t.content])).toEqual([
      ['D1:1', 'Ann: I got a kayak!'],
      ['D1:2', 'Bo: Nice. Look at this. [photo: a photo of a lake]'],
      ['D2:1', 'Ann: We paddled all day.'],
    ]);
    expect(c.turns.map((t) => t.timestamp)).toEqual([Date.UTC(2023, 4, 8, 13, 56), Date.UTC(2023, 4, 8, 13, 56, 1), Date.UTC(2023, 5, 27, 10, 37)]);
    expect(parseSessionDate('12:09 am on 13 September, 2023')).toBe(Date.UTC(2023, 8, 13, 0, 9));
    expect(() => parseSessionDate('yesterday')).toThrow(/unreadable session date/);
  });

  it('splits, reformats and drops malformed evidence, counting each, and skips questions left without any', () => {
    const { conversations, repairs } = readLocomo(file);
    expect(conversations[0].questions).toEqual([
      { question: 'What did Ann get?', category: 4, evidence: ['D1:1'] },
      { question: 'What did they do?', category: 1, evidence: ['D1:1', 'D2:1'] },
      { question: 'Where?', category: 3, evidence: ['D1:2'] },
    ]);
    expect(repairs).toEqual({ split: 1, reformatted: 1, dropped: 3, questionsSkipped: 2, adversarialSkipped: 1 });
  });

  it('maps dia_ids to client ids the API accepts, reversibly', () => {
    expect(toClientId('D12:3')).toBe('D12-3');
    expect(toClientId('D12:3')).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
    expect(toClientId('D12:3').replace(/-/g, ':')).toBe('D12:3');
  });

  it("averages each question's share of evidence in the top k, per group", () => {
    const table = new RecallTable();
    table.add(['all', 'category 1'], ['a', 'x', 'b'], ['a', 'b']);
    table.add(['all', 'category 4'], ['x', 'y'], ['z']);
    const r = table.result();
    expect(r.all).toEqual({ '@1': 0.25, '@5': 0.5, '@10': 0.5, '@25': 0.5, '@50': 0.5, questions: 2 });
    expect(r['category 1']).toEqual({ '@1': 0.5, '@5': 1, '@10': 1, '@25': 1, '@50': 1, questions: 1 });
    expect(r['category 4']['@50']).toBe(0);
  });
});
