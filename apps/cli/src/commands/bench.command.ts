import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { processConfig } from '@app/memory/config/load-config';
import { redisEndpoint } from '@app/memory/redis/redis-endpoint';
import { type Command, Option } from 'commander';
import { runBench } from '../bench/run-bench';
import { writeBenchmarkDocs } from '../report/benchmark-docs';
import { benchMarkdown, type BenchReport, formatBench, performancePage } from '../report/format-bench';
import { machine } from '../report/machine';
import { freePort } from '../stack/free-port';
import { startLocalRedis } from '../stack/local-redis';
import { repoRoot } from '../stack/stack';
import { positiveInt } from './api-options';

interface BenchFlags {
  sizes: number[];
  k: number;
  redisStackUrl?: string;
  redisStackCluster?: string;
  json?: string;
  writeDocs?: boolean;
}

/** Replaces what stands between `<!-- name:begin -->` and `<!-- name:end -->`. */
function replaceSection(text: string, name: string, body: string): string {
  const begin = `<!-- ${name}:begin -->`;
  const end = `<!-- ${name}:end -->`;
  const [from, to] = [text.indexOf(begin), text.indexOf(end)];
  if (from < 0 || to < from) throw new Error(`docs/performance.md has no ${begin} ... ${end} section`);
  return `${text.slice(0, from + begin.length)}\n${body}\n${text.slice(to)}`;
}

const sizeList = (value: string): number[] => value.split(',').map((v) => positiveInt(v.trim().replace(/_/g, '')));

export function registerBench(program: Command): void {
  program
    .command('bench')
    .description("search latency of the prototype's linear scan against exact, hnsw and redisearch, at growing sizes")
    .option('--sizes <list>', 'comma-separated observation counts', sizeList, [200, 1000, 10_000, 100_000])
    .option('--k <n>', 'hits per search', positiveInt, 10)
    .addOption(new Option('--redis-stack-url <url>', 'a disposable Redis Stack (it is flushed) for the redisearch backend').env('REDIS_STACK_URL'))
    .addOption(new Option('--redis-stack-cluster <nodes>', 'or a disposable Redis 8 cluster (host:port,...; every master is flushed)').env('REDIS_STACK_CLUSTER_NODES'))
    .option('--json <file>', 'write the figures as JSON')
    .option('--write-docs', 'write docs/benchmarks/bench-search.json and .md, and the table of docs/performance.md')
    .action(async (f: BenchFlags) => {
      const config = processConfig();
      const dir = mkdtempSync(join(tmpdir(), 'agent-memory-bench-'));
      const redisUrl = `redis://127.0.0.1:${await freePort()}`;
      const redis = await startLocalRedis({ url: redisUrl, dir, persist: false, log: () => undefined });
      try {
        const sizes = await runBench({
          config,
          sizes: f.sizes,
          redis: redisEndpoint(config, redisUrl),
          redisStack: f.redisStackCluster
            ? redisEndpoint({ ...config, REDIS_CLUSTER_NODES: f.redisStackCluster })
            : f.redisStackUrl === undefined ? undefined : redisEndpoint(config, f.redisStackUrl),
          k: f.k,
          onProgress: (m) => process.stderr.write(`bench: ${m}\n`),
        });
        const report: BenchReport = {
          machine: machine(),
          date: new Date().toISOString().slice(0, 10),
          k: f.k,
          index: { dim: config.EMBEDDING_DIM, m: config.HNSW_M, efConstruction: config.HNSW_EF_CONSTRUCTION, efRuntime: config.HNSW_EF_RUNTIME, exactThreshold: config.HNSW_EXACT_THRESHOLD },
          sizes,
        };
        console.log(formatBench(report));
        if (f.json) writeFileSync(f.json, `${JSON.stringify(report, null, 2)}\n`);
        if (f.writeDocs) {
          const written = writeBenchmarkDocs('bench-search', report, benchMarkdown(report));
          const page = join(repoRoot(), 'docs', 'performance.md');
          writeFileSync(page, replaceSection(readFileSync(page, 'utf8'), 'performance', performancePage(report)));
          console.log(`wrote ${written.join(', ')} and the performance table of docs/performance.md`);
        }
      } finally {
        await redis.stop();
        rmSync(dir, { recursive: true, force: true });
      }
    });
}
