import { Command } from 'commander';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname } from 'node:path';
import { loadConfig } from '@app/memory/config/load-config';
import { createEmbeddingProvider } from '@app/memory/embedding/create-embedding-provider';
import { percentiles } from '@app/memory/metrics/quantiles';
import { StoredVector } from '@app/memory/store/memory-store';
import { ExactIndex } from '@app/memory/vector/in-process/exact-index';
import { HnswIndex } from '@app/memory/vector/in-process/hnsw-index';
import { SearchCore } from '@app/memory/vector/in-process/search-core';
import { VectorQuery } from '@app/memory/vector/vector-index';
import { VectorMirror } from '@app/memory/vector/in-process/vector-mirror';
import { benchQuery } from '../apps/cli/src/bench/pipeline-load';
import { syntheticTexts } from '../apps/cli/src/bench/synthetic-corpus';
import { writeBenchmarkDocs } from '../apps/cli/src/report/benchmark-docs';
import { describeMachine, machine } from '../apps/cli/src/report/machine';
import { textTable } from '../apps/cli/src/report/text-table';

/**
 * Vector index benchmark on the in-process code path the retriever runs (HnswIndex / ExactIndex: filters, the
 * small-set exact path, hnswlib-node), without Redis round trips, which are the same for every backend.
 * Data: clustered synthetic vectors (Gaussian clusters around random unit centres, normalised), not uniform noise;
 * or (--vectors lexical) the offline embedder's real vectors of the synthetic corpus bench:pipeline stores, queried
 * with the first words of stored texts as bench:pipeline does: harder for HNSW (many near-equal neighbours).
 */
const program = new Command('bench-index')
  .option('--n <n>', 'vectors to index', '100000')
  .option('--vectors <kind>', 'clustered (synthetic Gaussian clusters) or lexical (the offline embedder, EMBEDDING_DIM)', 'clustered')
  .option('--dim <d>', 'dimension of clustered vectors', '1536')
  .option('--clusters <c>', 'Gaussian clusters', '300')
  .option('--spread <s>', 'noise norm relative to the unit cluster centre', '0.6')
  .option('--sessions <s>', 'sessions the vectors are spread over (one tenant)', '1000')
  .option('--queries <q>', 'timed queries per ef', '1000')
  .option('--truth <t>', 'queries with exact ground truth (recall, exact-scan latency)', '200')
  .option('--ef <list>', 'efRuntime values', '64,128,256')
  .option('--k <k>', 'neighbours per query', '10')
  .option('--m <m>', 'HNSW M', '16')
  .option('--ef-construction <e>', 'HNSW efConstruction', '200')
  .option('--json <file>', 'write the figures as JSON')
  .option('--write-docs', 'write docs/benchmarks/index-<n>x<dim>.{json,md} (the committed figures)')
  .parse();

const o = program.opts<Record<string, string> & { writeDocs?: boolean }>();
const n = Number(o.n);
const lexical = o.vectors === 'lexical';
const config = loadConfig({});
const dim = lexical ? config.EMBEDDING_DIM : Number(o.dim);
const k = Number(o.k);
const efs = o.ef.split(',').map(Number);
const sessions = Number(o.sessions);
const round = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d;
const mib = (bytes: number) => Math.round(bytes / 2 ** 20);
const log = (m: string) => process.stderr.write(`${m}\n`);

/** Deterministic PRNG (mulberry32) with standard normals (Box-Muller), so runs are repeatable. */
let state = 42;
const uniform = () => {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = Math.imul(state ^ (state >>> 15), state | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return (((t ^ (t >>> 14)) >>> 0) + 1) / 4294967297;
};
const normal = () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
const unit = (v: Float32Array) => {
  let sum = 0;
  for (const x of v) sum += x * x;
  return v.map((x) => x / Math.sqrt(sum));
};
const centres = Array.from({ length: Number(o.clusters) }, () => unit(Float32Array.from({ length: dim }, normal)));
const spread = Number(o.spread) / Math.sqrt(dim);
const sample = (): Float32Array => {
  const c = centres[Math.floor(uniform() * centres.length)];
  return unit(c.map((x) => x + spread * normal()));
};

async function timeMs(fn: () => unknown): Promise<number> {
  const t = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
}

async function build(core: SearchCore, vectors: StoredVector[], label: string) {
  const before = process.memoryUsage();
  const t = performance.now();
  for (const v of vectors) core.add(v);
  await core.settle(); // the whole insert, graph included
  log(`  ${label}: ${n} in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  const seconds = (performance.now() - t) / 1000;
  const after = process.memoryUsage();
  return {
    seconds: round(seconds, 2),
    perSecond: Math.round(n / seconds),
    memory: { rssMiB: mib(after.rss - before.rss), heapMiB: mib(after.heapUsed - before.heapUsed), arrayBuffersMiB: mib(after.arrayBuffers - before.arrayBuffers) },
  };
}

function latency(samples: number[]) {
  const p = percentiles(samples);
  return { p50: round(p.p50), p99: round(p.p99), mean: round(p.mean), count: p.count };
}

const recall = (got: string[], truth: string[]) => got.filter((key) => truth.includes(key)).length / truth.length;

/** The lexical corpus's vectors and queries (embedded in batches). */
async function lexicalData(count: number, queries: number): Promise<{ stored: Float32Array[]; queries: Float32Array[] }> {
  const embedder = createEmbeddingProvider(config);
  const texts = syntheticTexts(count, 7);
  const embed = async (xs: string[]) => {
    const out: Float32Array[] = [];
    for (let i = 0; i < xs.length; i += 500) out.push(...(await embedder.embed(xs.slice(i, i + 500))));
    return out;
  };
  return { stored: await embed(texts), queries: await embed(Array.from({ length: queries }, (_, i) => benchQuery(texts, sessions, i).text)) };
}

async function main(): Promise<void> {
  const m = machine();
  const loadBefore = loadavg().map((x) => round(x, 2));
  log(`bench-index: ${n} x ${dim}, ${lexical ? 'lexical embedder vectors' : `${o.clusters} clusters`}, ${describeMachine(m)}`);
  const t = performance.now();
  const data = lexical
    ? await lexicalData(n, Number(o.queries))
    : { stored: Array.from({ length: n }, sample), queries: Array.from({ length: Number(o.queries) }, sample) };
  const vectors: StoredVector[] = data.stored.map((embedding, i) => ({
    key: `bench:t:s${i % sessions}:turn:${i}`, tenant: 't', session: `s${i % sessions}`, role: i % 2 ? 'assistant' : 'user',
    seq: i, timestamp: i, embedding, content: '',
  }));
  const queryVectors = data.queries;
  log(`generated data in ${((performance.now() - t) / 1000).toFixed(1)} s`);

  const exact = new ExactIndex(new VectorMirror(dim));
  const exactBuild = await build(exact, vectors, 'exact');
  const hnsw = new HnswIndex({
    dim, m: Number(o.m), efConstruction: Number(o.efConstruction), efRuntime: efs[0], exactThreshold: 4096,
    logger: { log, warn: log },
  });
  const hnswBuild = await build(hnsw, vectors, 'hnsw');

  // Three query shapes: the whole tenant, a tenth of its sessions (filtered graph search), one session (exact path).
  const shapes: Record<string, Omit<VectorQuery, 'vector' | 'k'>> = {
    tenant: { tenant: 't' },
    tenthOfSessions: { tenant: 't', sessions: Array.from({ length: sessions / 10 }, (_, i) => `s${i * 10}`) },
    oneSession: { tenant: 't', sessions: ['s7'] },
  };
  const truthCount = Math.min(Number(o.truth), queryVectors.length);
  const results: Record<string, unknown> = {};
  for (const [shape, filter] of Object.entries(shapes)) {
    const queries = queryVectors.map((vector) => ({ ...filter, vector, k }));
    const exactMs: number[] = [];
    const truth: string[][] = [];
    for (const q of queries.slice(0, truthCount)) {
      let keys: string[] = [];
      exactMs.push(await timeMs(() => (keys = exact.search(q).map((r) => r.key))));
      truth.push(keys);
    }
    const perEf = [];
    for (const ef of efs) {
      const ms: number[] = [];
      let recallSum = 0;
      for (const q of queries.slice(0, 50)) await hnsw.search({ ...q, efRuntime: ef }); // warm-up
      for (const [i, q] of queries.entries()) {
        let keys: string[] = [];
        ms.push(await timeMs(async () => (keys = (await hnsw.search({ ...q, efRuntime: ef })).map((r) => r.key))));
        if (i < truthCount) recallSum += recall(keys, truth[i]);
      }
      perEf.push({ ef, ...latency(ms), recallAt10: round(recallSum / truthCount, 4) });
    }
    results[shape] = { exact: latency(exactMs), hnsw: perEf };
    log(`${shape}: exact ${JSON.stringify(latency(exactMs))}; hnsw ${JSON.stringify(perEf)}`);
  }

  const memory = process.memoryUsage();
  const report = {
    machine: m,
    vectors: lexical ? ('lexical' as const) : ('clustered' as const),
    params: { n, dim, clusters: Number(o.clusters), spread: Number(o.spread), sessions, k, m: Number(o.m), efConstruction: Number(o.efConstruction), queries: queryVectors.length, truthQueries: truthCount },
    insert: { exact: exactBuild, hnsw: hnswBuild },
    processMemoryMiB: { rss: mib(memory.rss), heapUsed: mib(memory.heapUsed), arrayBuffers: mib(memory.arrayBuffers) },
    queries: results,
    hnswCapacity: hnsw.capacity,
    /** The machine is shared: 1/5/15-minute load averages when the run started and ended. */
    loadAverage: { start: loadBefore, end: loadavg().map((x) => round(x, 2)) },
    date: new Date().toISOString(),
  };
  await hnsw.close();
  console.log(summary(report));
  if (o.json) {
    mkdirSync(dirname(o.json), { recursive: true });
    writeFileSync(o.json, `${JSON.stringify(report, null, 2)}\n`);
  }
  if (o.writeDocs) log(`wrote ${writeBenchmarkDocs(`index-${n}x${dim}${lexical ? '-lexical' : ''}`, report, markdown(report)).join(', ')}`);
}

type Report = {
  machine: ReturnType<typeof machine>;
  vectors: 'lexical' | 'clustered';
  params: Record<string, number>;
  insert: Record<'exact' | 'hnsw', Awaited<ReturnType<typeof build>>>;
  processMemoryMiB: Record<string, number>;
  queries: Record<string, unknown>;
  loadAverage: Record<'start' | 'end', number[]>;
  date: string;
};

type ShapeFigures = { exact: ReturnType<typeof latency>; hnsw: (ReturnType<typeof latency> & { ef: number; recallAt10: number })[] };

/** One row per shape and backend: shape, backend, ef, P50, P99, recall. */
const queryRows = (r: Report): string[][] =>
  Object.entries(r.queries as Record<string, ShapeFigures>).flatMap(([shape, q]) => [
    [shape, 'exact (linear scan)', '–', String(q.exact.p50), String(q.exact.p99), '1'],
    ...q.hnsw.map((h) => [shape, 'hnsw', String(h.ef), String(h.p50), String(h.p99), String(h.recallAt10)]),
  ]);

/** What the terminal shows: inserts and queries as tables. */
function summary(r: Report): string {
  const right = (n: number): ('left' | 'right')[] => Array(n).fill('right');
  const inserts = (['exact', 'hnsw'] as const).map((b) => [b, String(r.insert[b].seconds), r.insert[b].perSecond.toLocaleString('en-US'), String(r.insert[b].memory.rssMiB)]);
  return [
    `Vector index, ${r.params.n.toLocaleString('en-US')} x ${r.params.dim}: inserts`,
    textTable(['backend', 'seconds', 'inserts/s', 'RSS growth MiB'], inserts, ['left', ...right(3)]),
    `Queries (ms), k = ${r.params.k}, recall@${r.params.k} against the exact scan`,
    textTable(['shape', 'backend', 'ef', 'P50', 'P99', `recall@${r.params.k}`], queryRows(r), ['left', 'left', ...right(4)]),
    `Machine: ${describeMachine(r.machine)}`,
  ].join('\n');
}

function markdown(r: Report): string {
  const rows = queryRows(r).map((row) => `| ${row.join(' | ')} |`);
  return `# Vector index benchmark: ${r.params.n} x ${r.params.dim}

Generated by \`npm run bench:index -- --n ${r.params.n} ${r.vectors === 'lexical' ? '--vectors lexical' : `--dim ${r.params.dim}`} --write-docs\` on ${r.date.slice(0, 10)}.
Machine: ${describeMachine(r.machine)}; shared with other jobs: load average ${r.loadAverage.start.join(' / ')} at the start,
${r.loadAverage.end.join(' / ')} at the end (1 / 5 / 15 min), so tail latencies include CPU contention.

Data: ${r.vectors === 'lexical'
    ? `the offline lexical embedder's vectors of ${r.params.n} synthetic texts (the corpus bench:pipeline stores) in one tenant over ${r.params.sessions} sessions; queries are the first six words of stored texts`
    : `${r.params.n} clustered synthetic vectors (${r.params.clusters} Gaussian clusters, noise ${r.params.spread} of the centre's norm,
normalised) in one tenant over ${r.params.sessions} sessions; queries are fresh samples from the same clusters`}; k = ${r.params.k};
HNSW M = ${r.params.m}, efConstruction = ${r.params.efConstruction}. Timed in-process through HnswIndex / ExactIndex
(filters, small-set exact path, hnswlib-node), without Redis. Recall@${r.params.k} over ${r.params.truthQueries} queries against the exact scan.

## Inserts

| backend | seconds | inserts/s | RSS growth MiB | ArrayBuffers growth MiB |
|---|---|---|---|---|
| exact (mirror only) | ${r.insert.exact.seconds} | ${r.insert.exact.perSecond} | ${r.insert.exact.memory.rssMiB} | ${r.insert.exact.memory.arrayBuffersMiB} |
| hnsw (mirror + graph) | ${r.insert.hnsw.seconds} | ${r.insert.hnsw.perSecond} | ${r.insert.hnsw.memory.rssMiB} | ${r.insert.hnsw.memory.arrayBuffersMiB} |

Process at the end: RSS ${r.processMemoryMiB.rss} MiB, heap ${r.processMemoryMiB.heapUsed} MiB, ArrayBuffers ${r.processMemoryMiB.arrayBuffers} MiB (both indexes loaded).

## Queries (ms)

Shapes: \`tenant\` = every vector, no filter; \`tenthOfSessions\` = 10% of the sessions (filtered HNSW search);
\`oneSession\` = ${Math.round(r.params.n / r.params.sessions)} vectors, below HNSW_EXACT_THRESHOLD, so scanned exactly.

| shape | backend | ef | P50 | P99 | recall@${r.params.k} |
|---|---|---|---|---|---|
${rows.join('\n')}
`;
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
