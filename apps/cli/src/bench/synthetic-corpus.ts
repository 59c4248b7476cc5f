/** mulberry32: a small seeded PRNG, so every run benchmarks the same texts. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SYLLABLES = 'ka lo mi ne ru sa te vo zi pa do fe gu hi ja ke lu ma no pe qu ri so tu va we xi yo za'.split(' ');
const VOCABULARY = Array.from({ length: 4000 }, (_, i) =>
  Array.from({ length: 2 + (i % 3) }, (_, j) => SYLLABLES[(i * 7 + j * 13 + ((i >> 4) * j)) % SYLLABLES.length]).join('') + i.toString(36),
);
export const TOPICS = 300;
const TOPIC_WORDS = 30;
/** Share of a sentence's words drawn from its topic; the rest come from the whole vocabulary. */
const ON_TOPIC = 0.5;

const topicWords = (topic: number): string[] => {
  const random = prng(0x70c1c + topic);
  return Array.from({ length: TOPIC_WORDS }, () => VOCABULARY[Math.floor(random() * VOCABULARY.length)]);
};

/**
 * Deterministic sentences of 10 to 24 words. Like a conversation, each is about a topic (`topicOf(i)`, one of
 * TOPICS, each with its own 30 words; by default the topics take turns) and half its words come from it; the rest follow a skewed (Zipf-like)
 * frequency over a 4,000-word vocabulary. Without topics, random words give embeddings whose nearest
 * neighbours are barely nearer than the rest, which no retrieval workload looks like.
 */
export function syntheticTexts(count: number, seed: number, topicOf: (i: number) => number = (i) => i): string[] {
  const random = prng(seed);
  const topics = new Map<number, string[]>();
  const common = () => VOCABULARY[Math.floor(VOCABULARY.length * random() ** 2)];
  return Array.from({ length: count }, (_, i) => {
    const topic = topicOf(i) % TOPICS;
    if (!topics.has(topic)) topics.set(topic, topicWords(topic));
    const own = topics.get(topic)!;
    const word = () => (random() < ON_TOPIC ? own[Math.floor(random() * own.length)] : common());
    return Array.from({ length: 10 + Math.floor(random() * 15) }, word).join(' ');
  });
}
