import { Command } from 'commander';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { loadConfig } from '@app/memory/config/load-config';
import { percentiles } from '@app/memory/metrics/quantiles';
import { preloadThroughApi, timeSearches } from '../apps/cli/src/bench/pipeline-load';
import { syntheticTexts } from '../apps/cli/src/bench/synthetic-corpus';
import { ApiClient } from '../apps/cli/src/http/api-client';
import { describeMachine, machine } from '../apps/cli/src/report/machine';
import { freePort } from '../apps/cli/src/stack/free-port';
import { repoRoot } from '../apps/cli/src/stack/stack';
import { startStackStoppedBySignal } from '../apps/cli/src/commands/stack.command';

/**
 * A single Redis against a Redis Cluster of 3 masters, in one run on one machine: the same stack (API, embedders,
 * retrievers, hnsw backend) preloads N turns through the API on each, then times the search endpoint. Targets
 * (issue 17): search P99 on the cluster within 1.5x of the single Redis, stored turns/s at least as high.
 */
const program = new Command('bench-cluster')
  .option('--n <n>', 'turns to preload', '100000')
  .option('--sessions <s>', 'sessions they are spread over', '1000')
  .option('--queries <q>', 'search requests to time', '2000')
  .option('--masters <m>', 'masters of the cluster', '3')
  .option('--embedders <e>', 'embedder processes', '1')
  .option('--json <file>', 'write the figures as JSON')
  .option('--write-docs', 'write docs/benchmarks/cluster.{json,md}')
  .parse();

const o = program.opts<{ n: string; sessions: string; queries: string; masters: string; embedders: string; json?: string; writeDocs?: boolean }>();
const n = Number(o.n);
const sessions = Number(o.sessions);
const round = (x: number) => Math.round(x * 100) / 100;

async function measure(target: 'single' | 'cluster') {
  const dataDir = mkdtempSync(join(tmpdir(), 'agent-memory-bench-'));
  const stack = await startStackStoppedBySignal({
    config: loadConfig({ AUTH_MODE: 'none', LOG_LEVEL: 'warn', QUEUE_MAX_WAITING: '10000000', RATE_LIMIT_PER_MINUTE: '100000000', TENANT_MAX_QUEUED: '10000000' }),
    ...(target === 'cluster' ? { clusterMasters: Number(o.masters) } : { redisUrl: `redis://127.0.0.1:${await freePort()}`, dataDir }),
    embedders: Number(o.embedders),
    log: (name, line) => name.startsWith('redis') || process.stderr.write(`[${name}] ${line}\n`),
  });
  try {
    const api = new ApiClient({ url: stack.apiUrl });
    const texts = syntheticTexts(n, 7);
    const preload = await preloadThroughApi(api, texts, sessions);
    process.stderr.write(`${target}: ${n} turns stored in ${preload.storedS.toFixed(1)} s, searchable in ${preload.indexedS.toFixed(1)} s\n`);
    const search = percentiles((await timeSearches(api, texts, sessions, Number(o.queries))).get('hybrid')!);
    return {
      redis: stack.redisUrl,
      storedPerSecond: Math.round(n / preload.storedS),
      acceptedPerSecond: Math.round(n / preload.acceptedS),
      searchMs: { p50: round(search.p50), p95: round(search.p95), p99: round(search.p99), count: search.count },
    };
  } finally {
    await stack.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

type Figures = Awaited<ReturnType<typeof measure>>;

function report(single: Figures, cluster: Figures) {
  const p99Ratio = round(cluster.searchMs.p99 / single.searchMs.p99);
  const storedRatio = round(cluster.storedPerSecond / single.storedPerSecond);
  return {
    machine: machine(),
    date: new Date().toISOString().slice(0, 10),
    turns: n,
    sessions,
    single,
    cluster,
    targets: {
      searchP99WithinOneAndAHalf: { ratio: p99Ratio, met: p99Ratio <= 1.5 },
      storedAtLeastSingle: { ratio: storedRatio, met: storedRatio >= 1 },
    },
  };
}

function markdown(r: ReturnType<typeof report>): string {
  const row = (name: string, f: Figures) =>
    `| ${name} | ${f.storedPerSecond.toLocaleString('en-US')} | ${f.acceptedPerSecond.toLocaleString('en-US')} | ${f.searchMs.p50} | ${f.searchMs.p95} | ${f.searchMs.p99} |`;
  const met = (m: boolean) => (m ? 'met' : '**missed**');
  return [
    `A single Redis and a Redis Cluster of ${o.masters} masters (no replicas), one after the other in one run of \`npm run bench:cluster\` on ${r.date}:`,
    `${describeMachine(r.machine)}. Each: the API, ${o.embedders} embedder(s) and 1 retriever (hnsw backend, offline embedder), ${r.turns.toLocaleString('en-US')} turns`,
    `preloaded through the API over ${r.sessions.toLocaleString('en-US')} sessions, then ${r.single.searchMs.count.toLocaleString('en-US')} searches of one session each, over loopback HTTP.`,
    '',
    '| Redis | stored turns/s | accepted turns/s | search P50 ms | P95 ms | P99 ms |',
    '|---|---:|---:|---:|---:|---:|',
    row('single', r.single),
    row(`cluster (${o.masters} masters)`, r.cluster),
    '',
    `Search P99, cluster / single: ${r.targets.searchP99WithinOneAndAHalf.ratio} (target ≤ 1.5: ${met(r.targets.searchP99WithinOneAndAHalf.met)}). ` +
      `Stored turns/s, cluster / single: ${r.targets.storedAtLeastSingle.ratio} (target ≥ 1: ${met(r.targets.storedAtLeastSingle.met)}).`,
  ].join('\n');
}

async function main(): Promise<void> {
  const single = await measure('single');
  const cluster = await measure('cluster');
  const r = report(single, cluster);
  const md = markdown(r);
  console.log(md);
  const json = `${JSON.stringify(r, null, 2)}\n`;
  if (o.json) {
    mkdirSync(dirname(o.json), { recursive: true });
    writeFileSync(o.json, json);
  }
  if (o.writeDocs) {
    const docs = join(repoRoot(), 'docs', 'benchmarks');
    writeFileSync(join(docs, 'cluster.json'), json);
    writeFileSync(join(docs, 'cluster.md'), `# Single Redis against a Redis Cluster\n\n${md}\n\nWhat the figures mean: [docs/cluster.md](../cluster.md).\n`);
    process.stderr.write(`wrote ${docs}/cluster.{json,md}\n`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
