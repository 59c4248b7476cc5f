import { dot, type MemoryVector, normalise } from '@app/memory';

/**
 * The `k` memories nearest to `vector` by cosine similarity, best first. A scope holds one user's (or session's)
 * memories, a few hundred at most, so an exact scan over them is the vector search: no index to keep in this process.
 */
export function nearestMemories(vector: Float32Array, memories: readonly MemoryVector[], k: number): MemoryVector[] {
  const query = normalise(vector);
  return memories
    .map((m) => ({ m, similarity: dot(query, normalise(m.embedding)) }))
    .sort((a, b) => b.similarity - a.similarity)
    .slice(0, k)
    .map(({ m }) => m);
}

