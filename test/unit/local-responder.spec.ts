import { loadConfig } from '@app/memory/config/load-config';
import { createLlmProvider } from '@app/memory/llm/create-llm-provider';
import type { LlmRequest } from '@app/memory/llm/llm-provider';
import { LocalResponder } from '@app/memory/llm/local-responder';

const memory = (content: string, similarity = 0.5, role = 'assistant') => ({ role, content, similarity });

const collect = async (chunks: AsyncIterable<string>) => {
  const out: string[] = [];
  for await (const c of chunks) out.push(c);
  return out;
};

describe('LocalResponder (offline extractive responder)', () => {
  const responder = new LocalResponder();
  const co2: LlmRequest = {
    question: 'How much CO2 did training GPT-3 emit?',
    messages: [],
    context: '',
    memories: [
      memory('Training GPT-3 emitted an estimated 552 tCO2e. That is roughly what 120 cars emit in a year.', 0.6),
      memory('My favourite colour is green.', 0.1, 'user'),
      memory('The quarterly review meeting is on Tuesday at 10am.', 0.05),
    ],
  };

  it('is the default LLM provider and says what it is', async () => {
    const provider = createLlmProvider(loadConfig({}));
    expect(provider).toBeInstanceOf(LocalResponder);
    expect(provider).toMatchObject({ name: 'local', label: 'offline extractive responder' });
    expect(await provider.complete(co2)).toMatch(/^\[offline extractive responder\]/);
  });

  it('quotes the best-matching stored sentence verbatim, numbers included, and leaves unrelated ones out', async () => {
    const answer = await responder.complete(co2);
    expect(answer).toContain('Training GPT-3 emitted an estimated 552 tCO2e.');
    expect(answer).not.toContain('favourite colour');
    expect(answer).not.toContain('Tuesday');
  });

  it('says it has nothing stored when there are no memories and no context', async () => {
    const answer = await responder.complete({ question: 'What is my name?', messages: [], context: '', memories: [] });
    expect(answer).toBe('[offline extractive responder] I have nothing stored to answer from yet.');
  });

  it('says so when nothing stored matches the question', async () => {
    const answer = await responder.complete({ question: 'Which database do we use?', messages: [], context: '', memories: [memory('Lunch was pizza.')] });
    expect(answer).toMatch(/^\[offline extractive responder\] None of the stored memories matches/);
    expect(responder.isNonAnswer(answer)).toBe(true);
    expect(responder.isNonAnswer(await responder.complete({ question: 'q', messages: [], context: '', memories: [] }))).toBe(true);
    expect(responder.isNonAnswer(await responder.complete({ question: 'What was lunch?', messages: [], context: '', memories: [memory('Lunch was pizza.')] }))).toBe(false);
  });

  it('answers from the context too, without repeating what the memories already hold', async () => {
    const answer = await responder.complete({
      question: 'When was my order shipped, and what is the refund ticket number?',
      messages: [],
      context:
        '## Relevant memories\n- [2026-11-25T09:00:00.000Z] assistant (similarity 0.410): Your order shipped on Monday.\n' +
        '## Recent conversation\n- [2026-11-25T10:00:00.000Z] user: The refund ticket number is RF-2291.\n',
      memories: [memory('Your order shipped on Monday.')],
    });
    expect(answer).toContain('[2026-11-25T10:00:00.000Z] user: The refund ticket number is RF-2291.');
    expect(answer).not.toContain('##');
    expect(answer.match(/shipped on Monday/g)).toHaveLength(1);
  });

  it('does not answer with the question itself when it is already stored', async () => {
    const answer = await responder.complete({ ...co2, messages: [], context: `[user] ${co2.question}`, memories: [memory(co2.question, 0.99, 'user'), ...co2.memories] });
    expect(answer).not.toContain(co2.question);
    expect(answer).toContain('552 tCO2e');
  });

  it('streams a few chunks that join into the complete answer', async () => {
    const chunks = await collect(responder.stream(co2));
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.join('')).toBe(await responder.complete(co2));
  });

  it('quotes the facts inside its own earlier answers, not their header or bullets', async () => {
    const earlier = await responder.complete(co2);
    const reply = await responder.complete({ question: 'How much CO2 did training GPT-3 emit?', messages: [], context: '', memories: [memory(earlier, 0.7)] });
    expect(reply).toContain('\n- Training GPT-3 emitted an estimated 552 tCO2e.');
    expect(reply).not.toContain('- -');
    expect(reply.match(/offline extractive responder/g)).toHaveLength(1);
  });
});

