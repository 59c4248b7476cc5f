import { RedisServer } from '../support/redis-server';
import { QueueProbe } from './support/queue-probe';
import { OTHER_KEY, type ReliabilityStack, useReliabilityStack } from './support/reliability-stack';
import { auditStore } from './support/store-audit';
import { TurnFlood } from './support/turn-flood';

/**
 * One tenant floods the API with writes while another searches its own small session. The searching tenant must
 * not notice: read-your-writes waits only for its own writes, and the flooding tenant is shed (429) once its own
 * queue allowance is full, not everyone. (Its search latency under the flood is a benchmark figure, printed here.)
 */
const FLOOD_DIM = 1536;

describe('a neighbour tenant flooding writes', () => {
  const redis = new RedisServer();
  let rs: ReliabilityStack;
  let probe: QueueProbe;

  // 1536-d vectors make each in-process HNSW insert cost a millisecond or more, so the retriever's index falls behind
  // the flood by seconds: a search that waited for every tenant's writes would time out.
  useReliabilityStack(redis, { TENANT_MAX_QUEUED: '2000', JOB_TIMEOUT_MS: '5000', EMBEDDING_DIM: String(FLOOD_DIM) }, (stack, queues) => {
    rs = stack;
    probe = queues;
  });

  it("keeps the other tenant's searches and writes answering while it sheds only the flooding tenant", async () => {
    expect((await rs.call('POST', '/v1/sessions/quiet/turns?wait=true', { turns: [
      { role: 'user', content: 'my favourite tea is genmaicha' },
      { role: 'assistant', content: 'noted: genmaicha' },
    ] })).status).toBe(200);

    const sessions = ['flood-1', 'flood-2', 'flood-3', 'flood-4'];
    const flood = new TurnFlood({ url: rs.stack.apiUrl, apiKey: OTHER_KEY, sessions, loops: 8, batchesPerLoop: 6, batchSize: 250, deadlineMs: 120_000 });
    const flooding = flood.run();
    let done = false;
    void flooding.finally(() => (done = true));

    const statuses = new Map<number, number>();
    const latencies: number[] = [];
    let writes = 0;
    while (!done) {
      const started = performance.now();
      const res = await rs.call('GET', '/v1/sessions/quiet/memories?q=which%20tea%20do%20I%20like');
      latencies.push(performance.now() - started);
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      const body = (await res.json()) as { memories?: { content: string }[] };
      if (res.status === 200) expect(body.memories!.map((m) => m.content)).toContain('my favourite tea is genmaicha');
      if (latencies.length % 20 === 0) {
        const w = await rs.call('POST', '/v1/sessions/quiet-writes/turns', { role: 'user', content: `a note written during the flood ${writes++}` });
        statuses.set(w.status, (statuses.get(w.status) ?? 0) + 1);
      }
    }
    const result = await flooding;
    await probe.drained('embed', 60_000, () => rs.logs.tail());

    expect(Object.fromEntries([...statuses].filter(([s]) => s !== 200 && s !== 202))).toEqual({}); // no 429, 5xx or 504 for the quiet tenant
    expect(statuses.get(200)).toBeGreaterThan(2);
    expect(statuses.get(202) ?? 0).toBe(writes);
    expect(result.outcomes.get(429)).toBeGreaterThan(0); // the flooding tenant was shed, and resent its batches

    const audit = await auditStore(redis.url, FLOOD_DIM);
    expect(audit.problems).toEqual([]);
    for (const s of sessions) expect(new Set(audit.sessions.get(`other/${s}`)!.turnIds)).toEqual(result.acknowledged.get(s));

    latencies.sort((a, b) => a - b);
    const at = (q: number) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] * 10) / 10;
    console.log(JSON.stringify({ test: 'neighbour-flood', searches: latencies.length, p50Ms: at(0.5), p99Ms: at(0.99), maxMs: at(1), statuses: Object.fromEntries(statuses), floodOutcomes: Object.fromEntries(result.outcomes) }));
  }, 150_000);
});
