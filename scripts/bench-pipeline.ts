import { Command } from 'commander';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { loadConfig } from '@app/memory/config/load-config';
import { percentiles } from '@app/memory/metrics/quantiles';
import { benchSession, preloadThroughApi, timeSearches } from '../apps/cli/src/bench/pipeline-load';
import { syntheticTexts } from '../apps/cli/src/bench/synthetic-corpus';
import { ApiClient } from '../apps/cli/src/http/api-client';
import type { SearchMode } from '@app/memory/vector/fusion';
import { writeBenchmarkDocs } from '../apps/cli/src/report/benchmark-docs';
import { describeMachine, machine } from '../apps/cli/src/report/machine';
import { textTable } from '../apps/cli/src/report/text-table';
import { freePort } from '../apps/cli/src/stack/free-port';
import { startStack } from '../apps/cli/src/stack/stack';

/**
 * The pipeline's own latency with N stored observations, over real HTTP on a private stack:
 * the search endpoint (client-side), and the chat cycle's overhead without the LLM (e2e - llm, server-side).
 */
const program = new Command('bench-pipeline')
  .option('--n <n>', 'observations to preload', '100000')
  .option('--sessions <s>', 'sessions they are spread over', '1000')
  .option('--queries <q>', 'search requests to time', '2000')
  .option('--chats <c>', 'chat cycles to time', '500')
  .option('--modes <list>', 'search modes to time, each on the same preload (hybrid, vector, text)', 'hybrid')
  .option('--json <file>', 'write the figures as JSON')
  .option('--write-docs', 'write docs/benchmarks/pipeline.{json,md} (the committed figures)')
  .parse();

const opts = program.opts<{ n: string; sessions: string; queries: string; modes: string; chats: string; json?: string; writeDocs?: boolean }>();
const modes = opts.modes.split(',') as SearchMode[];
const n = Number(opts.n);
const sessions = Number(opts.sessions);
const round = (x: number) => Math.round(x * 100) / 100;
const summary = (xs: number[]) => {
  const p = percentiles(xs);
  return { p50: round(p.p50), p95: round(p.p95), p99: round(p.p99), p999: round(p.p999), count: p.count };
};

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'agent-memory-bench-'));
  const stack = await startStack({
    config: loadConfig({ AUTH_MODE: 'none', LOG_LEVEL: 'warn', QUEUE_MAX_WAITING: '10000000', RATE_LIMIT_PER_MINUTE: '100000000' }),
    redisUrl: `redis://127.0.0.1:${await freePort()}`,
    dataDir,
    log: (name, line) => name === 'redis' || process.stderr.write(`[${name}] ${line}\n`),
  });
  const api = new ApiClient({ url: stack.apiUrl });
  try {
    const texts = syntheticTexts(n, 7);
    const session = (i: number) => benchSession(i, sessions);
    const { acceptedS, storedS, indexedS } = await preloadThroughApi(api, texts, sessions);
    process.stderr.write(`preloaded ${n} observations: accepted in ${acceptedS.toFixed(1)} s, stored in ${storedS.toFixed(1)} s, indexed in ${indexedS.toFixed(1)} s\n`);

    const search = await timeSearches(api, texts, sessions, Number(opts.queries), modes);
    const overhead: number[] = [];
    const chatClient: number[] = [];
    for (let i = 0; i < Number(opts.chats); i++) {
      const t = performance.now();
      const res = await api.chat(session(i * 31), texts[(i * 31) % n].split(' ').slice(2, 9).join(' '));
      chatClient.push(performance.now() - t);
      overhead.push(res.timings.e2e - res.timings.llm);
    }
    const result = {
      machine: machine(),
      observations: n,
      sessions,
      preload: { acceptedPerSecond: Math.round(n / acceptedS), storedPerSecond: Math.round(n / storedS), searchablePerSecond: Math.round(n / indexedS) },
      searchEndpointMs: Object.fromEntries([...search].map(([mode, ms]) => [mode, summary(ms)])),
      chatOverheadMs: summary(overhead),
      chatClientMs: summary(chatClient),
    };
    console.log(summaryTable(result));
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

type Stats = ReturnType<typeof summary>;
type Result = { machine: ReturnType<typeof machine>; observations: number; sessions: number; preload: Record<string, number>; searchEndpointMs: Record<string, Stats>; chatOverheadMs: Stats; chatClientMs: Stats };

const cells = (s: Stats) => [s.p50, s.p95, s.p99, s.p999, s.count].map(String);
const rows = (r: Result): [string, Stats][] => [
  ...Object.entries(r.searchEndpointMs).map(([mode, stats]): [string, Stats] => [`search endpoint, ${mode} (client-side)`, stats]),
  ['chat overhead without the LLM (write + read + assemble)', r.chatOverheadMs],
  ['chat request (client-side, local responder)', r.chatClientMs],
];

function summaryTable(r: Result): string {
  return [
    `Pipeline latency (ms) with ${r.observations.toLocaleString('en-US')} stored observations over ${r.sessions.toLocaleString('en-US')} sessions`,
    textTable(['ms', 'P50', 'P95', 'P99', 'P99.9', 'n'], rows(r).map(([name, s]) => [name, ...cells(s)]), ['left', 'right', 'right', 'right', 'right', 'right']),
    `Preload: ${r.preload.acceptedPerSecond.toLocaleString('en-US')} turns/s accepted, ${r.preload.storedPerSecond.toLocaleString('en-US')} stored, ${r.preload.searchablePerSecond.toLocaleString('en-US')} searchable`,
    `Machine: ${describeMachine(r.machine)}`,
  ].join('\n');
}

function markdown(r: Result): string {
  const row = (name: string, s: Stats) => `| ${name} | ${cells(s).join(' | ')} |`;
  return [
    `# Pipeline latency with ${r.observations.toLocaleString('en')} stored observations`,
    '',
    `Machine: ${describeMachine(r.machine)}. One API, one embedder, one retriever (hnsw backend, local embedder and responder), over loopback HTTP.`,
    `Preload: ${r.preload.acceptedPerSecond.toLocaleString('en')} turns/s accepted, ${r.preload.storedPerSecond.toLocaleString('en')} turns/s stored, ${r.preload.searchablePerSecond.toLocaleString('en')} turns/s searchable, over ${r.sessions} sessions.`,
    '',
    '| ms | P50 | P95 | P99 | P99.9 | n |',
    '|---|---|---|---|---|---|',
    ...rows(r).map(([name, s]) => row(name, s)),
    '',
    `Reproduce: \`npm run bench:pipeline -- --n ${r.observations} --modes ${Object.keys(r.searchEndpointMs).join(',')} --write-docs\`.`,
  ].join('\n');
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
