import { Command } from 'commander';
import MiniSearch from 'minisearch';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { loadConfig } from '@app/memory/config/load-config';
import { VECTOR_BACKENDS } from '@app/memory/config/memory-config';
import { createEmbeddingProvider } from '@app/memory/embedding/create-embedding-provider';
import { METRIC_NAMES } from '@app/memory/metrics/metric-names';
import { percentiles } from '@app/memory/metrics/quantiles';
import { SEARCH_MODES, type SearchMode } from '@app/memory/vector/vector-index';
import { type LocomoConversation, readLocomo, toClientId } from '../apps/cli/src/bench/locomo/locomo-data';
import { type QuestionOutcome, RECALL_KS, RecallTable } from '../apps/cli/src/bench/locomo/recall-at-k';
import { inProcessRankings } from '../apps/cli/src/bench/locomo/in-process-recall';
import { pairedBootstrap, type PairedDifference } from '../apps/cli/src/bench/locomo/paired-bootstrap';
import { ApiClient } from '../apps/cli/src/http/api-client';
import { promSample } from '../apps/cli/src/stress/prom-text';
import { describeMachine, machine } from '../apps/cli/src/report/machine';
import { freePort } from '../apps/cli/src/stack/free-port';
import { startStackStoppedBySignal } from '../apps/cli/src/commands/stack.command';

/**
 * Retrieval recall on LoCoMo through the whole service: a private stack (redis-server, API, embedder, retriever from
 * dist/), one session per conversation, every category 1-4 question asked through the search endpoint in each mode,
 * next to plain BM25 (MiniSearch defaults, one index per conversation) computed in the same run.
 */
const program = new Command('bench-recall')
  .requiredOption('--data <file>', 'the LoCoMo JSON file (never committed: its licence is non-commercial)')
  .option('--modes <list>', 'search modes to measure', SEARCH_MODES.join(','))
  .option('--env <KEY=VALUE...>', 'extra environment for the stack (e.g. VECTOR_BACKEND=exact, EMBEDDING_DIM=1536)', [])
  .option('--write-docs', 'write docs/benchmarks/recall-locomo-dev.{json,md}')
  .option('--json <file>', 'also write the figures as JSON here')
  .option('--baseline <file>', "a baseline run's --json output: paired bootstrap of each mode's recall against the same mode there")
  .option('--in-process', 'for iterating: the exact core, the embedder and the re-ranking in this process, no stack (report figures from the API run)')
  .parse();

const opts = program.opts<{ data: string; modes: string; env: string[]; writeDocs?: boolean; json?: string; inProcess?: boolean; baseline?: string }>();
const K = Math.max(...RECALL_KS);
const round = (x: number) => Math.round(x * 100) / 100;

/** `KEY=VALUE` pairs as an environment. */
const envOf = (pairs: string[]): Record<string, string> =>
  Object.fromEntries(pairs.map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)]));

/** Plain BM25 as the baseline: MiniSearch with its defaults, one index per conversation. */
function bm25Baseline(conversations: LocomoConversation[]): RecallTable {
  const table = new RecallTable();
  for (const c of conversations) {
    const index = new MiniSearch<{ id: string; content: string }>({ fields: ['content'] });
    index.addAll(c.turns.map((t) => ({ id: t.diaId, content: t.content })));
    for (const q of c.questions) table.add(['all', `category ${q.category}`], index.search(q.question).map((r) => String(r.id)), q.evidence);
  }
  return table;
}

/**
 * The in-process path: recall per mode and category, no latency; `--json` writes the outcomes (so a later run can
 * pair with them through `--baseline`), never the committed docs.
 */
async function labRun(conversations: LocomoConversation[], modes: SearchMode[]): Promise<void> {
  const config = loadConfig({ LOG_LEVEL: 'warn', ...envOf(opts.env) });
  const rankings = await inProcessRankings(conversations, config, modes, K);
  const questions = conversations.flatMap((c) => c.questions);
  const service: Record<string, Pick<ModeResult, 'recall' | 'outcomes'>> = {};
  for (const mode of modes) {
    const table = new RecallTable();
    rankings.get(mode)!.forEach((ranked, i) => table.add(['all', `category ${questions[i].category}`], ranked, questions[i].evidence));
    service[mode] = { recall: table.result(), outcomes: table.outcomes };
    process.stdout.write(`${mode}: ${Object.entries(service[mode].recall).map(([g, x]) => `${g} @5 ${x['@5']} @10 ${x['@10']}`).join(' | ')}\n`);
  }
  if (opts.baseline) printAgainst(againstBaseline(service, JSON.parse(readFileSync(opts.baseline, 'utf8')) as Result));
  if (opts.json) writeFileSync(opts.json, `${JSON.stringify({ lab: true, service: { modes: service } }, null, 2)}\n`);
}

function printAgainst(against: NonNullable<Result['against']>): void {
  for (const [mode, groups] of Object.entries(against)) {
    for (const [g, d] of Object.entries(groups)) {
      process.stderr.write(`${mode} - baseline ${mode}, ${g}: @5 ${d['@5'].difference} [${d['@5'].low}, ${d['@5'].high}], @10 ${d['@10'].difference} [${d['@10'].low}, ${d['@10'].high}]\n`);
    }
  }
}

async function main(): Promise<void> {
  const { conversations, repairs } = readLocomo(JSON.parse(readFileSync(opts.data, 'utf8')));
  const modes = opts.modes.split(',') as SearchMode[];
  for (const m of modes) if (!SEARCH_MODES.includes(m)) throw new Error(`unknown mode ${m}`);
  if (opts.inProcess) return labRun(conversations, modes);
  const questions = conversations.reduce((n, c) => n + c.questions.length, 0);
  process.stderr.write(
    `${conversations.length} conversations, ${conversations.reduce((n, c) => n + c.turns.length, 0)} turns, ${questions} questions; evidence: ` +
      `${repairs.split} split, ${repairs.reformatted} reformatted, ${repairs.dropped} unknown ids dropped, ` +
      `${repairs.questionsSkipped} questions without evidence skipped (and ${repairs.adversarialSkipped} adversarial)\n`,
  );

  const config = loadConfig({ AUTH_MODE: 'none', LOG_LEVEL: 'warn', RATE_LIMIT_PER_MINUTE: '100000000', ...envOf(opts.env) });
  const dataDir = mkdtempSync(join(tmpdir(), 'agent-memory-recall-'));
  const stack = await startStackStoppedBySignal({
    config,
    redisUrl: `redis://127.0.0.1:${await freePort()}`,
    dataDir,
    log: (name, line) => name === 'redis' || process.stderr.write(`[${name}] ${line}\n`),
  });
  const api = new ApiClient({ url: stack.apiUrl });
  try {
    // Ingest: one session per conversation; the acknowledgement's seqs map the search results back to dia_ids.
    const diaIdBySeq = new Map<string, Map<number, string>>();
    let earliest = Infinity;
    const t0 = performance.now();
    for (const c of conversations) {
      const bySeq = new Map<number, string>();
      for (let i = 0; i < c.turns.length; i += 500) {
        const batch = c.turns.slice(i, i + 500);
        const ack = await api.addTurns(c.id, batch.map((t) => ({ role: 'user' as const, content: t.content, timestamp: t.timestamp, id: toClientId(t.diaId) })), true);
        ack.turns.forEach((t, j) => bySeq.set(t.seq, batch[j].diaId));
      }
      diaIdBySeq.set(c.id, bySeq);
      earliest = Math.min(earliest, ...c.turns.map((t) => t.timestamp));
    }
    process.stderr.write(`ingested in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
    // The endpoint looks back windowHours from now: cover the oldest session, with a day to spare.
    const windowHours = Math.ceil((Date.now() - earliest) / 3600_000) + 24;

    // The modes take turns question by question (in alternating order), so that none is timed on a busier machine.
    const tables = new Map(modes.map((m) => [m, new RecallTable()]));
    const latency = new Map<SearchMode, number[]>(modes.map((m) => [m, []]));
    let asked = 0;
    for (const c of conversations) {
      // Questions are asked as of the conversation's last session, as a client in its timeline would.
      const asOf = Math.max(...c.turns.map((t) => t.timestamp));
      for (const q of c.questions) {
        for (const mode of asked++ % 2 ? [...modes].reverse() : modes) {
          const t = performance.now();
          const res = await api.memories(c.id, q.question, K, { mode, windowHours, asOf });
          latency.get(mode)!.push(performance.now() - t);
          tables.get(mode)!.add(['all', `category ${q.category}`], res.memories.map((m) => diaIdBySeq.get(c.id)!.get(m.seq) ?? ''), q.evidence);
        }
      }
    }
    const askedQuestions = conversations.flatMap((c) => c.questions.map((q, i) => ({ conversation: c.id, question: i, evidence: q.evidence })));
    const service: Result['service']['modes'] = {};
    for (const mode of modes) {
      const p = percentiles(latency.get(mode)!);
      const outcomes = tables.get(mode)!.outcomes;
      service[mode] = {
        recall: tables.get(mode)!.result(),
        latencyMs: { p50: round(p.p50), p99: round(p.p99), mean: round(p.mean) },
        outcomes,
        // The misses at @10, by conversation and question number (never the data's text: it is not ours to publish).
        misses: outcomes.flatMap((o, i) => (o.recall['@10'] < 1 ? [{ ...askedQuestions[i], group: o.group, bestRank: o.bestRank }] : [])),
      };
      process.stderr.write(`${mode}: recall@10 ${service[mode].recall.all['@10']}, P50 ${round(p.p50)} ms, P99 ${round(p.p99)} ms\n`);
    }

    // The backend the retriever chose (VECTOR_BACKEND=auto resolves at its start).
    const retrieverMetrics = await (await fetch(stack.workerMetrics['retriever-1'])).text();
    const backend = VECTOR_BACKENDS.find((b) => promSample(retrieverMetrics, METRIC_NAMES.vectorBackendInfo, { backend: b }) === 1) ?? config.VECTOR_BACKEND;
    const result = {
      machine: machine(),
      data: { conversations: conversations.length, turns: conversations.reduce((n, c) => n + c.turns.length, 0), questions, repairs },
      service: {
        backend,
        embedder: createEmbeddingProvider(config).label,
        embeddingDim: config.EMBEDDING_DIM,
        hybridTextWeight: config.HYBRID_TEXT_WEIGHT,
        modes: service,
      },
      bm25Baseline: bm25Baseline(conversations).result(),
      ...(opts.baseline ? { against: againstBaseline(service, JSON.parse(readFileSync(opts.baseline, 'utf8')) as Result) } : {}),
    };
    if (result.against) printAgainst(result.against);
    console.log(JSON.stringify(result, null, 2));
    const outputs: [string, string][] = [];
    if (opts.json) outputs.push([opts.json, JSON.stringify(result, null, 2)]);
    if (opts.writeDocs) {
      outputs.push(['docs/benchmarks/recall-locomo-dev.json', JSON.stringify(result, null, 2)], ['docs/benchmarks/recall-locomo-dev.md', markdown(result)]);
    }
    for (const [file, text] of outputs) {
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, `${text}\n`);
    }
  } finally {
    await stack.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

type ModeResult = {
  recall: ReturnType<RecallTable['result']>;
  latencyMs: Record<string, number>;
  outcomes: QuestionOutcome[];
  misses: { conversation: string; question: number; evidence: string[]; group: string; bestRank: number | null }[];
};
type Result = {
  machine: ReturnType<typeof machine>;
  data: { conversations: number; turns: number; questions: number; repairs: ReturnType<typeof readLocomo>['repairs'] };
  service: { backend: string; embedder: string; embeddingDim: number; hybridTextWeight: number; modes: Record<string, ModeResult> };
  bm25Baseline: ReturnType<RecallTable['result']>;
  /** mode -> group -> @k -> this run minus the baseline's same mode, paired by question. */
  against?: Record<string, Record<string, Record<'@5' | '@10', PairedDifference>>>;
};

/** Each mode measured in both runs, overall and per group, at @5 and @10. */
function againstBaseline(modes: Record<string, Pick<ModeResult, 'outcomes'>>, baseline: Result): NonNullable<Result['against']> {
  const out: NonNullable<Result['against']> = {};
  for (const [mode, m] of Object.entries(modes)) {
    const base = baseline.service.modes[mode]?.outcomes;
    if (!base) continue;
    if (base.length !== m.outcomes.length) throw new Error(`the baseline asked ${base.length} questions, this run ${m.outcomes.length}: not the same data`);
    const groups = ['all', ...new Set(m.outcomes.map((o) => o.group))].sort();
    out[mode] = Object.fromEntries(groups.map((g) => {
      const pick = m.outcomes.flatMap((o, i) => (g === 'all' || o.group === g ? [i] : []));
      const at = (k: '@5' | '@10') => pairedBootstrap(pick.map((i) => base[i].recall[k]), pick.map((i) => m.outcomes[i].recall[k]));
      return [g, { '@5': at('@5'), '@10': at('@10') }];
    }));
  }
  return out;
}

/** How far the misses at @10 were: their best evidence rank, bucketed. */
function missBuckets(misses: ModeResult['misses']): string {
  const buckets: [string, (r: number | null) => boolean][] = [
    ['some evidence in the top 10', (r) => r !== null && r <= 10],
    ['best at 11-25', (r) => r !== null && r > 10 && r <= 25],
    ['best at 26-50', (r) => r !== null && r > 25],
    ['none in the top 50', (r) => r === null],
  ];
  return buckets.map(([name, test]) => `${name}: ${misses.filter((m) => test(m.bestRank)).length}`).join('; ');
}

function markdown(r: Result): string {
  const header = `| | ${RECALL_KS.map((k) => `recall@${k}`).join(' | ')} | questions |\n|---|${RECALL_KS.map(() => '---|').join('')}---|`;
  const row = (name: string, x: Record<string, number>) => `| ${name} | ${RECALL_KS.map((k) => x[`@${k}`].toFixed(3)).join(' | ')} | ${x.questions} |`;
  const groups = Object.keys(r.bm25Baseline);
  const { repairs } = r.data;
  return [
    '# Retrieval recall on LoCoMo (dev half)',
    '',
    `Machine: ${describeMachine(r.machine)}.`,
    `Service: ${r.service.backend} backend, ${r.service.embedder}, EMBEDDING_DIM ${r.service.embeddingDim}, HYBRID_TEXT_WEIGHT ${r.service.hybridTextWeight}; ` +
      'every question through `GET /v1/sessions/:id/memories` over loopback HTTP (one API, one embedder, one retriever).',
    `Data: ${r.data.conversations} conversations, ${r.data.turns} turns, ${r.data.questions} questions of categories 1-4 (1 multi-hop, 2 temporal, 3 open-domain, 4 single-hop). ` +
      `Evidence repaired: strings holding several ids split: ${repairs.split}; ids reformatted (D:11:26 as D11:26): ${repairs.reformatted}; ` +
      `ids naming no turn dropped: ${repairs.dropped}; questions left without evidence, skipped: ${repairs.questionsSkipped}; adversarial questions (category 5), skipped: ${repairs.adversarialSkipped}.`,
    'Recall@k: per question, the share of its evidence turns in the top k; averaged over questions.',
    'What was tried, what was kept and why: [retrieval.md](../retrieval.md#round-2-issue-26).',
    '',
    '## Overall',
    '',
    header,
    ...Object.entries(r.service.modes).map(([mode, m]) => row(`service, ${mode}`, m.recall.all)),
    row('BM25 baseline (MiniSearch defaults, per conversation)', r.bm25Baseline.all),
    '',
    '## Per category',
    '',
    ...groups.filter((g) => g !== 'all').flatMap((g) => [
      `### ${g}`,
      '',
      header,
      ...Object.entries(r.service.modes).map(([mode, m]) => row(`service, ${mode}`, m.recall[g])),
      row('BM25 baseline', r.bm25Baseline[g]),
      '',
    ]),
    ...(r.against
      ? [
        '## Against the baseline run (paired bootstrap, 2,000 resamples, 95% interval)',
        '',
        '| mode | group | Δ recall@5 | Δ recall@10 |',
        '|---|---|---|---|',
        ...Object.entries(r.against).flatMap(([mode, groups]) => Object.entries(groups).map(([g, d]) =>
          `| ${mode} | ${g} | ${d['@5'].difference.toFixed(3)} [${d['@5'].low.toFixed(3)}, ${d['@5'].high.toFixed(3)}] | ${d['@10'].difference.toFixed(3)} [${d['@10'].low.toFixed(3)}, ${d['@10'].high.toFixed(3)}] |`)),
        '',
      ]
      : []),
    '## Misses at @10 (questions with evidence outside the top 10; the list is in the JSON)',
    '',
    ...Object.entries(r.service.modes).map(([mode, m]) => `- ${mode}: ${m.misses.length} questions. ${missBuckets(m.misses)}.`),
    '',
    '## Search latency (client-side, k = 50)',
    '',
    '| mode | P50 ms | P99 ms | mean ms |',
    '|---|---|---|---|',
    ...Object.entries(r.service.modes).map(([mode, m]) => `| ${mode} | ${m.latencyMs.p50} | ${m.latencyMs.p99} | ${m.latencyMs.mean} |`),
    '',
    'Reproduce: `npm run bench:recall -- --data ../shared/data/locomo-dev.json` (add `--write-docs` to rewrite this file).',
  ].join('\n');
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
