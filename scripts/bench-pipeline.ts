import { Command } from 'commander';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { loadConfig } from '@app/memory/config/load-config';
import { percentiles } from '@app/memory/metrics/quantiles';
import type { SearchMode } from '@app/memory/vector/vector-index';
import { bullmqRoundTrips, directIndexQueries, httpRoundTrips } from '../apps/cli/src/bench/pipeline-floors';
import { benchQuery, benchSession, preloadThroughApi, type SearchParts, timeConcurrentSearches, timeSearchParts } from '../apps/cli/src/bench/pipeline-load';
import { syntheticTexts } from '../apps/cli/src/bench/synthetic-corpus';
import { ApiClient } from '../apps/cli/src/http/api-client';
import { writeBenchmarkDocs } from '../apps/cli/src/report/benchmark-docs';
import { describeMachine, machine } from '../apps/cli/src/report/machine';
import { textTable } from '../apps/cli/src/report/text-table';
import { freePort } from '../apps/cli/src/stack/free-port';
import { startStackStoppedBySignal } from '../apps/cli/src/commands/stack.command';

/**
 * The pipeline's own latency with N stored observations, over real HTTP on a private stack, in one run: the search
 * endpoint split into its parts (from the API's own timing fields) next to the floors measured alongside (bare HTTP,
 * a bare BullMQ round trip, the index queried directly), the same under concurrent clients with the throughput, and
 * the chat cycle's overhead without the LLM (e2e - llm, server-side).
 */
const program = new Command('bench-pipeline')
  .option('--n <n>', 'observations to preload', '100000')
  .option('--sessions <s>', 'sessions they are spread over', '1000')
  .option('--queries <q>', 'sequential search requests to time per mode, and calls per floor', '2000')
  .option('--clients <list>', 'concurrent clients to time searches with (the first mode)', '8,32')
  .option('--concurrent-queries <q>', 'search requests per concurrency level', '4000')
  .option('--chats <c>', 'chat cycles to time', '500')
  .option('--modes <list>', 'search modes to time, each on the same preload (hybrid, vector, text)', 'hybrid')
  .option('--backend <b>', 'VECTOR_BACKEND for the run (auto: redisearch when the Redis has the module)', 'auto')
  .option('--redis-url <url>', 'use this Redis (e.g. a Redis Stack for the redisearch backend) instead of a private redis-server')
  .option('--port <port>', 'API port (0: a free one)', '0')
  .option('--cpu-prof <dir>', 'write CPU profiles of the API and the retriever (node --cpu-prof) into this directory')
  .option('--no-direct', 'skip the direct index query floor (an in-process backend builds its own copy for it)')
  .option('--json <file>', 'write the figures as JSON')
  .option('--write-docs', 'write docs/benchmarks/pipeline.{json,md} (the committed figures)')
  .parse();

const opts = program.opts<{
  n: string; sessions: string; queries: string; clients: string; concurrentQueries: string; chats: string; modes: string; backend: string;
  redisUrl?: string; port: string; cpuProf?: string; direct: boolean; json?: string; writeDocs?: boolean;
}>();
const modes = opts.modes.split(',') as SearchMode[];
const n = Number(opts.n);
const sessions = Number(opts.sessions);
const queries = Number(opts.queries);
const round = (x: number) => Math.round(x * 100) / 100;
const summary = (xs: number[]) => {
  const p = percentiles(xs);
  return { p50: round(p.p50), p99: round(p.p99), p999: round(p.p999), count: p.count };
};
type Stats = ReturnType<typeof summary>;
const PARTS = ['client', 'http', 'prepare', 'queue', 'embed', 'search'] as const;

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'agent-memory-bench-'));
  const redisUrl = opts.redisUrl ?? `redis://127.0.0.1:${await freePort()}`;
  // A Redis of someone else's gets keys of this run only.
  const config = loadConfig({
    AUTH_MODE: 'none', LOG_LEVEL: 'log', QUEUE_MAX_WAITING: '10000000', TENANT_MAX_QUEUED: '10000000', RATE_LIMIT_PER_MINUTE: '100000000', REDIS_URL: redisUrl,
    VECTOR_BACKEND: opts.backend, ...(opts.redisUrl ? { KEY_PREFIX: `bench${Date.now().toString(36)}` } : {}),
  });
  const loadAtStart = round(loadavg()[0]);
  let backendLog = '';
  const stack = await startStackStoppedBySignal({
    config,
    redisUrl,
    port: Number(opts.port),
    dataDir,
    persist: false,
    nodeArgs: opts.cpuProf ? Object.fromEntries(['api', 'retriever'].map((app) => [app, ['--cpu-prof', `--cpu-prof-dir=${opts.cpuProf}`]])) : undefined,
    log: (name, line) => {
      // The retriever says which backend it chose: the heading reports that one, not the one asked for.
      if (name.startsWith('retriever') && /vector index: using the/.test(line)) backendLog = line.slice(line.indexOf('vector index:')).trim();
      if (name !== 'redis' && /warn|error|vector index|snapshot/i.test(line)) process.stderr.write(`[${name}] ${line}\n`);
    },
  });
  const api = new ApiClient({ url: stack.apiUrl });
  try {
    const texts = syntheticTexts(n, 7);
    const { acceptedS, storedS, indexedS } = await preloadThroughApi(api, texts, sessions);
    process.stderr.write(`preloaded ${n} observations: accepted in ${acceptedS.toFixed(1)} s, stored in ${storedS.toFixed(1)} s, indexed in ${indexedS.toFixed(1)} s\n`);

    const sequential: Record<string, Record<(typeof PARTS)[number], Stats>> = {};
    for (const mode of modes) sequential[mode] = partStats(await timeSearchParts(api, texts, sessions, queries, mode));
    const concurrent = [];
    for (const clients of opts.clients.split(',').map(Number)) {
      const { ms, perSecond } = await timeConcurrentSearches(api, texts, sessions, Number(opts.concurrentQueries), modes[0], clients);
      concurrent.push({ clients, perSecond: Math.round(perSecond), ms: summary(ms) });
    }
    const chat = await timeChats(api, texts);

    process.stderr.write('measuring the floors\n');
    const direct = opts.direct
      ? await directIndexQueries(config, Array.from({ length: queries }, (_, i) => benchQuery(texts, sessions, i)), modes[0])
      : undefined;
    const floors = {
      http: summary(await httpRoundTrips(queries)),
      bullmq: summary(await bullmqRoundTrips(config, queries)),
      ...(direct ? { directIndex: summary(direct.ms) } : {}),
    };
    const first = sequential[modes[0]];
    const ratio = (a: Stats, b: Stats | undefined) => (b ? { p50: round(a.p50 / b.p50), p99: round(a.p99 / b.p99) } : undefined);
    const result = {
      machine: machine(),
      loadAverageAtStart: loadAtStart,
      redisUrl,
      apiUrl: stack.apiUrl,
      backend: backendLog.match(/using the (\S+) backend/)?.[1] ?? 'unknown',
      backendLog,
      observations: n,
      sessions,
      preload: { acceptedPerSecond: Math.round(n / acceptedS), storedPerSecond: Math.round(n / storedS), searchablePerSecond: Math.round(n / indexedS) },
      searchSequentialMs: sequential,
      floorsMs: floors,
      directIndexReadyS: direct && round(direct.readyS),
      ratios: {
        httpToBareHttp: ratio(first.http, floors.http),
        queueHopToBareBullmq: ratio(sumStats(first.prepare, first.queue), floors.bullmq),
        searchToDirectIndex: ratio(first.search, floors.directIndex),
        clientToFloors: ratio(first.client, floors.directIndex && sumStats(floors.http, floors.bullmq, floors.directIndex)),
      },
      searchConcurrent: concurrent,
      chatMs: chat,
    };
    console.log(summaryText(result));
    if (opts.json) {
      mkdirSync(dirname(opts.json), { recursive: true });
      writeFileSync(opts.json, `${JSON.stringify(result, null, 2)}\n`);
    }
    if (opts.writeDocs) process.stderr.write(`wrote ${writeBenchmarkDocs('pipeline', result, markdown(result)).join(', ')}\n`);
  } finally {
    await stack.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function partStats(samples: SearchParts[]): Record<(typeof PARTS)[number], Stats> {
  return Object.fromEntries(PARTS.map((p) => [p, summary(samples.map((s) => s[p]))])) as Record<(typeof PARTS)[number], Stats>;
}

/** Percentiles do not add up; a sum of each one is the floor's bound used for the ratios, and says so in its name. */
const sumStats = (...xs: Stats[]): Stats => ({
  p50: round(xs.reduce((s, x) => s + x.p50, 0)), p99: round(xs.reduce((s, x) => s + x.p99, 0)), p999: round(xs.reduce((s, x) => s + x.p999, 0)), count: xs[0].count,
});

/** Chat cycles one after another: the overhead without the LLM and its parts (server-side), and the client's wall time. */
async function timeChats(api: ApiClient, texts: string[]): Promise<Record<string, Stats>> {
  const parts = { overhead: [] as number[], write: [] as number[], read: [] as number[], assemble: [] as number[], client: [] as number[] };
  for (let i = 0; i < Number(opts.chats); i++) {
    const t = performance.now();
    const res = await api.chat(benchSession(i * 31, sessions), texts[(i * 31) % n].split(' ').slice(2, 9).join(' '));
    parts.client.push(performance.now() - t);
    parts.overhead.push(res.timings.e2e - res.timings.llm);
    parts.write.push(res.timings.write);
    parts.read.push(res.timings.read);
    parts.assemble.push(res.timings.assemble);
  }
  return Object.fromEntries(Object.entries(parts).map(([k, xs]) => [k, summary(xs)]));
}

type Result = {
  machine: ReturnType<typeof machine>; loadAverageAtStart: number; redisUrl: string; apiUrl: string; backend: string; backendLog: string;
  observations: number; sessions: number; preload: Record<string, number>; searchSequentialMs: Record<string, Record<string, Stats>>;
  floorsMs: Record<string, Stats>; directIndexReadyS?: number; ratios: Record<string, { p50: number; p99: number } | undefined>;
  searchConcurrent: { clients: number; perSecond: number; ms: Stats }[]; chatMs: Record<string, Stats>;
};

const PART_NAMES: Record<string, string> = {
  client: 'client wall time',
  http: 'HTTP + Fastify + Nest (client - API total)',
  prepare: 'API before queueing (read-your-writes positions)',
  queue: 'queue hop (enqueue, pickup, reply)',
  embed: 'retriever: embed the query',
  search: 'retriever: index search + load hits',
};
const FLOOR_NAMES: Record<string, string> = { http: 'bare Node HTTP round trip', bullmq: 'bare BullMQ round trip', directIndex: 'index queried directly (VectorIndex.search, the k turns read)' };
const CHAT_NAMES: Record<string, string> = {
  overhead: 'chat overhead without the LLM (e2e - llm)', write: 'chat: write', read: 'chat: read', assemble: 'chat: assemble', client: 'chat: client wall time',
};

function tableRows(r: Result): { heading: string; rows: string[][] }[] {
  const cells = (s: Stats) => [s.p50, s.p99, s.p999, s.count].map(String);
  return [
    ...Object.entries(r.searchSequentialMs).map(([mode, parts]) => ({
      heading: `Search endpoint, ${mode}, one client after another`,
      rows: Object.entries(parts).map(([p, s]) => [PART_NAMES[p], ...cells(s)]),
    })),
    { heading: 'Floors, same run', rows: Object.entries(r.floorsMs).map(([p, s]) => [FLOOR_NAMES[p], ...cells(s)]) },
    {
      heading: `Search endpoint, ${Object.keys(r.searchSequentialMs)[0]}, concurrent clients`,
      rows: r.searchConcurrent.map((c) => [`${c.clients} clients: ${c.perSecond.toLocaleString('en')} requests/s`, ...cells(c.ms)]),
    },
    { heading: 'Chat cycle (local responder)', rows: Object.entries(r.chatMs).map(([p, s]) => [CHAT_NAMES[p], ...cells(s)]) },
  ];
}

const heading = (r: Result) =>
  `${r.observations.toLocaleString('en')} stored observations over ${r.sessions.toLocaleString('en')} sessions; backend ${r.backend} ("${r.backendLog}"); Redis ${r.redisUrl}; API ${r.apiUrl}`;
const ratioLines = (r: Result) =>
  Object.entries(r.ratios).filter(([, v]) => v).map(([k, v]) => `${k}: P50 ${v!.p50}×, P99 ${v!.p99}×`);
const loadLine = (r: Result) => `Load average (1 min): ${r.loadAverageAtStart} at the start, ${r.machine.loadAverage} at the end`;

function summaryText(r: Result): string {
  return [
    `Pipeline latency (ms): ${heading(r)}`,
    ...tableRows(r).flatMap(({ heading: h, rows }) => [h, textTable(['ms', 'P50', 'P99', 'P99.9', 'n'], rows, ['left', 'right', 'right', 'right', 'right'])]),
    'Ratios (a sum of floors adds their percentiles):',
    ...ratioLines(r),
    `Preload: ${r.preload.acceptedPerSecond.toLocaleString('en')} turns/s accepted, ${r.preload.storedPerSecond.toLocaleString('en')} stored, ${r.preload.searchablePerSecond.toLocaleString('en')} searchable`,
    loadLine(r),
    `Machine: ${describeMachine(r.machine)}`,
  ].join('\n');
}

function markdown(r: Result): string {
  return [
    `# Pipeline latency with ${r.observations.toLocaleString('en')} stored observations`,
    '',
    `${heading(r)}. One API, one embedder, one retriever (local embedder and responder), over loopback HTTP.`,
    `Machine: ${describeMachine(r.machine)}. ${loadLine(r)}.`,
    `Preload: ${r.preload.acceptedPerSecond.toLocaleString('en')} turns/s accepted, ${r.preload.storedPerSecond.toLocaleString('en')} turns/s stored, ${r.preload.searchablePerSecond.toLocaleString('en')} turns/s searchable.`,
    ...tableRows(r).flatMap(({ heading: h, rows }) => ['', `**${h}**`, '', '| ms | P50 | P99 | P99.9 | n |', '|---|---|---|---|---|', ...rows.map((row) => `| ${row.join(' | ')} |`)]),
    '',
    'Ratios (a sum of floors adds their percentiles, an optimistic floor):',
    '',
    ...ratioLines(r).map((l) => `- ${l}`),
    '',
    `Reproduce: \`npm run bench:pipeline -- --n ${r.observations} --modes ${Object.keys(r.searchSequentialMs).join(',')} --write-docs\`.`,
  ].join('\n');
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
