import { Command } from 'commander';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { loadConfig } from '@app/memory/config/load-config';
import { percentiles } from '@app/memory/metrics/quantiles';
import { writeBenchmarkDocs } from '../apps/cli/src/report/benchmark-docs';
import { describeMachine, machine } from '../apps/cli/src/report/machine';
import { freePort } from '../apps/cli/src/stack/free-port';
import { startStackStoppedBySignal } from '../apps/cli/src/commands/stack.command';
import { promSample } from '../apps/cli/src/stress/prom-text';
import { indexVectors } from '../apps/cli/src/stress/run-stress';
import { auditStore } from '../test/reliability/support/store-audit';
import { TurnFlood } from '../test/reliability/support/turn-flood';

/**
 * The neighbour flood as a benchmark (issue 28): on a private stack, tenant B floods batches of turns from many
 * clients while tenant A searches its own 2-turn session and, once a second, writes one turn and times how long it
 * takes to be found. Prints A's latencies and 5xx, B's accepted / stored / searchable turns per second, each
 * process's event-loop lag and the load average; --json writes them, --write-docs writes docs/benchmarks/flood.*.
 */
const program = new Command('bench-flood')
  .option('--seconds <s>', "how long B's flood lasts", '30')
  .option('--clients <n>', "B's concurrent clients", '16')
  .option('--batch <n>', "turns per B's request", '500')
  .option('--embedders <n>', 'embedder replicas', '1')
  .option('--retrievers <n>', 'retriever replicas', '1')
  .option('--backend <b>', 'VECTOR_BACKEND (auto: redisearch when the Redis has the module)', 'hnsw')
  .option('--dim <d>', 'EMBEDDING_DIM (default: the configured default)')
  .option('--redis-url <url>', 'use this Redis (e.g. a Redis Stack) instead of a private redis-server')
  .option('--json <file>', 'write the figures as JSON')
  .option('--write-docs', 'write docs/benchmarks/flood.{json,md} (the committed figures)')
  .parse();
const opts = program.opts<{ seconds: string; clients: string; batch: string; embedders: string; retrievers: string; backend: string; dim?: string; redisUrl?: string; json?: string; writeDocs?: boolean }>();

const KEY_A = 'sk-flood-alpha-0123456789abcdef';
const KEY_B = 'sk-flood-beta-0123456789abcdef0';
const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;
const load = () => loadavg().map((l) => round(l, 2));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const stats = (xs: number[]) => {
  if (xs.length === 0) return { count: 0, p50: null, p99: null, max: null };
  const p = percentiles(xs);
  return { count: p.count, p50: round(p.p50), p99: round(p.p99), max: round(Math.max(...xs)) };
};

async function call(base: string, key: string, method: string, path: string, body?: unknown): Promise<{ status: number; ms: number; json: unknown }> {
  const started = performance.now();
  try {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    const json: unknown = await res.json().catch(() => undefined);
    return { status: res.status, ms: performance.now() - started, json };
  } catch {
    return { status: 599, ms: performance.now() - started, json: undefined };
  }
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'agent-memory-flood-'));
  const redisUrl = opts.redisUrl ?? `redis://127.0.0.1:${await freePort()}`;
  const config = loadConfig({
    LOG_LEVEL: 'warn', API_KEYS: `alpha:${KEY_A},beta:${KEY_B}`, REDIS_URL: redisUrl, VECTOR_BACKEND: opts.backend,
    ...(opts.dim ? { EMBEDDING_DIM: opts.dim } : {}),
    ...(opts.redisUrl ? { KEY_PREFIX: `flood${Date.now().toString(36)}` } : {}),
  });
  const loadAtStart = load();
  const stack = await startStackStoppedBySignal({
    config, redisUrl, dataDir, persist: false, embedders: Number(opts.embedders), retrievers: Number(opts.retrievers),
    log: (name, line) => name !== 'redis' && /error|warn/i.test(line) && process.stderr.write(`[${name}] ${line}\n`),
  });
  const api = stack.apiUrl;
  const processes: Record<string, string> = { api: `${api}/metrics`, ...stack.workerMetrics };
  const retrievers = Object.entries(stack.workerMetrics).filter(([name]) => name.startsWith('retriever')).map(([, url]) => url);
  try {
    await call(api, KEY_A, 'POST', '/v1/sessions/quiet/turns?wait=true', { turns: [{ role: 'user', content: 'my favourite tea is genmaicha' }, { role: 'assistant', content: 'noted: genmaicha' }] });
    const indexedAtStart = (await indexVectors(retrievers)) ?? 0;

    // Each process's event-loop lag: prom-client resets its histogram at every scrape, so each sample is one window.
    const lags: Record<string, { p99: number[]; max: number[] }> = Object.fromEntries(Object.keys(processes).map((p) => [p, { p99: [], max: [] }]));
    const loads: number[][] = [];
    const sampling = setInterval(() => {
      loads.push(load());
      for (const [name, url] of Object.entries(processes)) {
        void fetch(url)
          .then((r) => r.text())
          .then((text) => {
            lags[name].p99.push((promSample(text, 'nodejs_eventloop_lag_p99_seconds') ?? 0) * 1000);
            lags[name].max.push((promSample(text, 'nodejs_eventloop_lag_max_seconds') ?? 0) * 1000);
          })
          .catch(() => undefined);
      }
    }, 1000);

    const flood = new TurnFlood({
      url: api, apiKey: KEY_B, sessions: Array.from({ length: Number(opts.clients) }, (_, i) => `flood-${i}`),
      loops: Number(opts.clients), batchesPerLoop: 1_000_000, batchSize: Number(opts.batch), deadlineMs: 600_000, requestTimeoutMs: 30_000,
    });
    const floodStarted = performance.now();
    const flooding = flood.run().catch((err: Error) => {
      if (!err.message.includes('aborted')) throw err;
    });
    setTimeout(() => flood.abort(), Number(opts.seconds) * 1000);
    let floodDone = false;
    void flooding.finally(() => (floodDone = true));

    // A: searches back to back, and once a second a new turn timed until a search finds it.
    const searches: number[] = [];
    const searchStatuses: number[] = [];
    const searchable: number[] = [];
    const probing = (async () => {
      while (!floodDone) {
        const r = await call(api, KEY_A, 'GET', '/v1/sessions/quiet/memories?q=which%20tea%20do%20I%20like');
        searches.push(r.ms);
        searchStatuses.push(r.status);
      }
    })();
    const writing = (async () => {
      for (let i = 0; !floodDone; i++) {
        const content = `probe ${i}: the spare key is under the blue flowerpot number ${i}`;
        const w = await call(api, KEY_A, 'POST', `/v1/sessions/probe-${i}/turns`, { role: 'user', content });
        searchStatuses.push(w.status);
        if (w.status === 202) {
          const written = performance.now() - w.ms / 2;
          for (;;) {
            const r = await call(api, KEY_A, 'GET', `/v1/sessions/probe-${i}/memories?q=${encodeURIComponent(content)}`);
            searchStatuses.push(r.status);
            if (((r.json as { memories?: unknown[] } | undefined)?.memories?.length ?? 0) > 0) break;
            await sleep(20);
          }
          searchable.push(performance.now() - written);
        }
        await sleep(1000);
      }
    })();
    await flooding;
    const floodS = (performance.now() - floodStarted) / 1000;
    await Promise.all([probing, writing]);
    const acked = flood.acknowledgedCount;

    // Stored: B's queue drained; searchable: every retriever's index holds them (A's probes count there too).
    const probeTurns = searchable.length;
    let storedS = NaN;
    let searchableS = NaN;
    while (Number.isNaN(searchableS) && performance.now() - floodStarted < 900_000) {
      const [jobs, indexed] = await Promise.all([fetch(`${api}/metrics`).then((r) => r.text()), indexVectors(retrievers)]);
      const queued = ['waiting', 'active', 'delayed'].reduce((s, state) => s + (promSample(jobs, 'agent_memory_queue_jobs', { queue: 'embed', state }) ?? 0), 0);
      if (Number.isNaN(storedS) && queued === 0) storedS = (performance.now() - floodStarted) / 1000;
      if (!Number.isNaN(storedS) && (indexed ?? 0) >= indexedAtStart + acked + probeTurns) searchableS = (performance.now() - floodStarted) / 1000;
      await sleep(200);
    }
    clearInterval(sampling);
    const audit = await auditStore(stack.redisUrl, config.EMBEDDING_DIM);
    let lost = 0;
    for (const [session, ids] of flood.result.acknowledged) {
      const stored = new Set(audit.sessions.get(`beta/${session}`)?.turnIds ?? []);
      for (const id of ids) if (!stored.has(id)) lost++;
    }

    const result = {
      machine: machine(),
      loadAverage: { atStart: loadAtStart, max1m: round(Math.max(...loads.map((l) => l[0])), 2), atEnd: load() },
      setup: { seconds: Number(opts.seconds), clients: Number(opts.clients), batch: Number(opts.batch), embedders: Number(opts.embedders), retrievers: Number(opts.retrievers), backend: opts.backend, dim: config.EMBEDDING_DIM, redisUrl },
      probe: {
        searchMs: stats(searches),
        errors5xx: searchStatuses.filter((s) => s >= 500).length,
        statuses: tally(searchStatuses),
        writeToSearchableMs: stats(searchable),
      },
      flood: {
        acknowledged: acked,
        outcomes: Object.fromEntries(flood.result.outcomes),
        floodSeconds: round(floodS),
        storedAfterS: round(storedS),
        searchableAfterS: round(searchableS),
        acceptedPerSecond: Math.round(acked / floodS),
        storedPerSecond: Math.round(acked / storedS),
        searchablePerSecond: Math.round(acked / searchableS),
        lost,
        auditProblems: audit.problems.slice(0, 5),
      },
      eventLoopLagMs: Object.fromEntries(Object.entries(lags).map(([name, l]) => [name, { p99: stats(l.p99).max, max: stats(l.max).max }])),
    };
    console.log(JSON.stringify(result, null, 2));
    if (opts.json) {
      mkdirSync(dirname(opts.json), { recursive: true });
      writeFileSync(opts.json, `${JSON.stringify(result, null, 2)}\n`);
    }
    if (opts.writeDocs) process.stderr.write(`wrote ${writeBenchmarkDocs('flood', result, markdown(result)).join(', ')}\n`);
  } finally {
    await stack.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const tally = (xs: number[]) => xs.reduce<Record<string, number>>((m, x) => ({ ...m, [x]: (m[x] ?? 0) + 1 }), {});

function markdown(r: {
  machine: ReturnType<typeof machine>; loadAverage: { atStart: number[]; max1m: number; atEnd: number[] }; setup: Record<string, unknown>;
  probe: { searchMs: ReturnType<typeof stats>; errors5xx: number; writeToSearchableMs: ReturnType<typeof stats> };
  flood: { acknowledged: number; acceptedPerSecond: number; storedPerSecond: number; searchablePerSecond: number; lost: number };
  eventLoopLagMs: Record<string, { p99: number | null; max: number | null }>;
}): string {
  return [
    '# Neighbour flood (`npm run bench:flood`)',
    '',
    `${describeMachine(r.machine)}; load average at start ${r.loadAverage.atStart.join(' ')}, highest 1-minute ${r.loadAverage.max1m} during the run.`,
    `Setup: ${JSON.stringify(r.setup)}.`,
    'A load average above the number of cores means every process waited for a CPU: such figures measure the machine as much as the service.',
    '',
    '| figure | value | target (quiet machine) |',
    '| --- | --- | --- |',
    `| A's search P50 / P99 / max | ${r.probe.searchMs.p50} / ${r.probe.searchMs.p99} / ${r.probe.searchMs.max} ms | P99 < 50 ms |`,
    `| A's 5xx | ${r.probe.errors5xx} | 0 |`,
    `| A's write-to-searchable P99 | ${r.probe.writeToSearchableMs.p99} ms | < 1 s |`,
    `| B accepted / stored / searchable per second | ${r.flood.acceptedPerSecond} / ${r.flood.storedPerSecond} / ${r.flood.searchablePerSecond} | searchable ≥ 2,000/s |`,
    `| B's acknowledged turns lost | ${r.flood.lost} of ${r.flood.acknowledged} | 0 |`,
    '',
    '| process | event-loop lag P99 (worst 1 s window) | max |',
    '| --- | --- | --- |',
    ...Object.entries(r.eventLoopLagMs).map(([name, l]) => `| ${name} | ${l.p99} ms | ${l.max} ms |`),
    '',
  ].join('\n');
}

void main().catch((err: Error) => {
  console.error(err.stack ?? err.message);
  process.exit(1);
});
