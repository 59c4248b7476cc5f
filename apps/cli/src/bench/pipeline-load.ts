import type { SearchMode } from '@app/memory/vector/vector-index';
import type { ApiClient } from '../http/api-client';
import { retrying } from '../http/retrying';
import { promSample } from '../stress/prom-text';

/** Session `i` of a preload over `sessions` sessions. */
export const benchSession = (i: number, sessions: number): string => `bench-${i % sessions}`;

export interface Preload {
  acceptedS: number;
  storedS: number;
  indexedS: number;
}

/**
 * Stores `texts` through the API, text i in session i mod `sessions` (one request per session, eight at a time),
 * and resolves once every turn is stored and searchable, with the seconds each took since the start.
 */
export async function preloadThroughApi(api: ApiClient, texts: string[], sessions: number): Promise<Preload> {
  const t0 = performance.now();
  const batches: [string, string[]][] = [];
  for (let s = 0; s < sessions; s++) batches.push([benchSession(s, sessions), texts.filter((_, i) => i % sessions === s)]);
  for (let i = 0; i < batches.length; i += 8) {
    // eight at a time is past TENANT_MAX_BULK_WRITES: the API's 429 says when to send again
    await Promise.all(batches.slice(i, i + 8).map(([id, ts]) => retrying(() => api.addTurns(id, ts.map((content) => ({ role: 'user' as const, content }))))));
  }
  const acceptedS = (performance.now() - t0) / 1000;
  // Let the embedders work through the backlog, then write one last turn per session with wait=true:
  // once all of those answer, everything accepted before them is stored too.
  const pending = async () => {
    const text = await api.metricsText();
    return ['waiting', 'active'].reduce((n, state) => n + (promSample(text, 'agent_memory_queue_jobs', { queue: 'embed', state }) ?? 0), 0);
  };
  while ((await pending()) > 0) await new Promise((r) => setTimeout(r, 500));
  await Promise.all(batches.map(([id]) => api.addTurns(id, [{ role: 'assistant', content: 'preload complete' }], true)));
  const storedS = (performance.now() - t0) / 1000;
  // The in-process index follows the change log: a search answers once the index has caught up with every
  // write before it, and gives up (504) after JOB_TIMEOUT_MS, so ask again until the preload is indexed.
  for (const deadline = Date.now() + 20 * 60_000; ; ) {
    try {
      await api.memories(benchSession(0, sessions), 'warm up', 10);
      break;
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
  }
  return { acceptedS, storedS, indexedS: (performance.now() - t0) / 1000 };
}

/** The i-th benchmark query: the first words of a stored text, in that text's session. */
export function benchQuery(texts: string[], sessions: number, i: number): { session: string; text: string } {
  const at = (i * 7919) % texts.length;
  return { session: benchSession(at, sessions), text: texts[at].split(' ').slice(0, 6).join(' ') };
}

/**
 * Client-side latencies (ms) of `count` searches per mode, one after another, for the first words of stored texts.
 * The modes take turns query by query (in alternating order), so that none is timed on a busier machine.
 */
export async function timeSearches(api: ApiClient, texts: string[], sessions: number, count: number, modes: SearchMode[] = ['hybrid']): Promise<Map<SearchMode, number[]>> {
  const samples = new Map<SearchMode, number[]>(modes.map((m) => [m, []]));
  for (let i = 0; i < count; i++) {
    const q = benchQuery(texts, sessions, i);
    for (const mode of i % 2 ? [...modes].reverse() : modes) {
      const t = performance.now();
      await api.memories(q.session, q.text, 10, { mode });
      samples.get(mode)!.push(performance.now() - t);
    }
  }
  return samples;
}

/** Where one search request's time went (ms): the client's wall time and the API's own timing fields. */
export interface SearchParts {
  client: number;
  /** Client wall time outside the API's handler: HTTP, Fastify, Nest (guards, validation, serialisation). */
  http: number;
  prepare: number;
  queue: number;
  embed: number;
  search: number;
}

/** `count` searches one after another, each split into its parts. */
export async function timeSearchParts(api: ApiClient, texts: string[], sessions: number, count: number, mode: SearchMode): Promise<SearchParts[]> {
  const out: SearchParts[] = [];
  for (let i = 0; i < count; i++) {
    const q = benchQuery(texts, sessions, i);
    const t = performance.now();
    const { timings } = await api.memories(q.session, q.text, 10, { mode });
    const client = performance.now() - t;
    out.push({ client, http: client - timings.total, prepare: timings.prepare, queue: timings.queue, embed: timings.embed, search: timings.search });
  }
  return out;
}

/** `count` searches shared by `clients` concurrent clients: each request's client-side latency, and requests per second. */
export async function timeConcurrentSearches(api: ApiClient, texts: string[], sessions: number, count: number, mode: SearchMode, clients: number): Promise<{ ms: number[]; perSecond: number }> {
  const ms: number[] = [];
  let next = 0;
  const t0 = performance.now();
  const client = async () => {
    for (let i = next++; i < count; i = next++) {
      const q = benchQuery(texts, sessions, i);
      const t = performance.now();
      await api.memories(q.session, q.text, 10, { mode });
      ms.push(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: clients }, client));
  return { ms, perSecond: count / ((performance.now() - t0) / 1000) };
}
