import { Command } from 'commander';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { loadConfig } from '@app/memory/config/load-config';
import { percentiles } from '@app/memory/metrics/quantiles';
import { ScriptedLlm } from '../apps/cli/src/bench/scripted-llm';
import { syntheticTexts } from '../apps/cli/src/bench/synthetic-corpus';
import { ApiClient } from '../apps/cli/src/http/api-client';
import { writeBenchmarkDocs } from '../apps/cli/src/report/benchmark-docs';
import { describeMachine, machine } from '../apps/cli/src/report/machine';
import { textTable } from '../apps/cli/src/report/text-table';
import { promSample } from '../apps/cli/src/stress/prom-text';
import { freePort } from '../apps/cli/src/stack/free-port';
import { startStackStoppedBySignal } from '../apps/cli/src/commands/stack.command';

/**
 * Extraction with a scripted LLM, over real HTTP on private stacks: the write path (POST turns?wait=true, the
 * acknowledgement of stored turns) timed without extraction (the offline responder: no extractor, no feed) and with
 * it (an extractor extracting every session as it is written), in alternating rounds on fresh stacks; and the
 * extraction throughput of the second, in turns per second from the first write until every turn is extracted.
 */
const program = new Command('bench-extract')
  .option('--sessions <s>', 'sessions written in each round', '200')
  .option('--turns <t>', 'turns per session, written two per request', '20')
  .option('--concurrency <c>', 'sessions written at once', '8')
  .option('--rounds <r>', 'rounds of each setting (alternating: without, with, without, ...)', '2')
  .option('--llm-ms <ms>', "the scripted LLM's time per answer", '50')
  .option('--json <file>', 'where to write the figures as JSON', 'reports/bench-extract.json')
  .option('--write-docs', 'also write docs/benchmarks/extract.{json,md}')
  .parse();

const opts = program.opts<{ sessions: string; turns: string; concurrency: string; rounds: string; llmMs: string; json: string; writeDocs?: boolean }>();
const sessions = Number(opts.sessions);
const perSession = Number(opts.turns);
const round2 = (x: number) => Math.round(x * 100) / 100;
const summary = (xs: number[]) => {
  const p = percentiles(xs);
  return { p50: round2(p.p50), p95: round2(p.p95), p99: round2(p.p99), p999: round2(p.p999), count: p.count };
};
type Stats = ReturnType<typeof summary>;

interface Round {
  writeMs: number[];
  /** With extraction: seconds from the first write until every turn was extracted. */
  extractedS?: number;
}

async function runRound(llm: ScriptedLlm, extract: boolean, round: number): Promise<Round> {
  const dataDir = mkdtempSync(join(tmpdir(), 'agent-memory-bench-'));
  const env = { AUTH_MODE: 'none', LOG_LEVEL: 'warn', QUEUE_MAX_WAITING: '10000000', TENANT_MAX_QUEUED: '10000000', RATE_LIMIT_PER_MINUTE: '100000000' };
  const stack = await startStackStoppedBySignal({
    config: loadConfig(extract ? { ...env, LLM_PROVIDER: 'openai-compatible', OPENAI_BASE_URL: llm.baseURL, EXTRACT_QUIET_MS: '500' } : env),
    redisUrl: `redis://127.0.0.1:${await freePort()}`,
    dataDir,
    log: (name, line) => name === 'redis' || process.stderr.write(`[${name}] ${line}\n`),
  });
  const api = new ApiClient({ url: stack.apiUrl });
  try {
    const texts = syntheticTexts(sessions * perSession, 13 + round);
    const writeMs: number[] = [];
    const t0 = performance.now();
    const writeSession = async (s: number) => {
      for (let i = 0; i < perSession; i += 2) {
        const turns = [0, 1].map((j) => ({ role: j === 0 ? ('user' as const) : ('assistant' as const), content: texts[s * perSession + i + j] }));
        const t = performance.now();
        await api.addTurns(`bench-${s}`, turns, true, `user-${s % 50}`);
        writeMs.push(performance.now() - t);
      }
    };
    for (let s = 0; s < sessions; s += Number(opts.concurrency)) {
      await Promise.all(Array.from({ length: Math.min(Number(opts.concurrency), sessions - s) }, (_, i) => writeSession(s + i)));
    }
    if (!extract) return { writeMs };
    const extractor = Object.entries(stack.workerMetrics).find(([name]) => name.startsWith('extractor'))![1];
    const extracted = async () => promSample(await (await fetch(extractor)).text(), 'agent_memory_extracted_turns_total') ?? 0;
    const total = sessions * perSession;
    for (const deadline = Date.now() + 30 * 60_000; (await extracted()) < total; ) {
      if (Date.now() > deadline) throw new Error(`only ${await extracted()} of ${total} turns extracted`);
      await new Promise((r) => setTimeout(r, 100));
    }
    return { writeMs, extractedS: (performance.now() - t0) / 1000 };
  } finally {
    await stack.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const llm = await new ScriptedLlm(Number(opts.llmMs)).start();
  try {
    const without: number[] = [];
    const withExtraction: number[] = [];
    const extractedS: number[] = [];
    for (let r = 0; r < Number(opts.rounds); r++) {
      for (const extract of r % 2 ? [true, false] : [false, true]) {
        const result = await runRound(llm, extract, r);
        (extract ? withExtraction : without).push(...result.writeMs);
        if (result.extractedS !== undefined) extractedS.push(result.extractedS);
        process.stderr.write(`round ${r + 1}, extraction ${extract ? 'on' : 'off'}: write P99 ${round2(percentiles(result.writeMs).p99)} ms${result.extractedS ? `, all extracted after ${round2(result.extractedS)} s` : ''}\n`);
      }
    }
    const turns = sessions * perSession;
    const result = {
      machine: machine(),
      sessions,
      turnsPerRound: turns,
      rounds: Number(opts.rounds),
      llmMs: Number(opts.llmMs),
      writeWithoutExtractionMs: summary(without),
      writeWithExtractionMs: summary(withExtraction),
      p99Ratio: round2(percentiles(withExtraction).p99 / percentiles(without).p99),
      extractionTurnsPerSecond: extractedS.map((s) => Math.round(turns / s)),
    };
    process.stdout.write(`${table(result)}\n`);
    mkdirSync(dirname(opts.json), { recursive: true });
    writeFileSync(opts.json, `${JSON.stringify(result, null, 2)}\n`);
    process.stderr.write(`wrote ${opts.json}\n`);
    if (opts.writeDocs) process.stderr.write(`wrote ${writeBenchmarkDocs('extract', result, markdown(result)).join(', ')}\n`);
  } finally {
    await llm.stop();
  }
}

type Result = {
  machine: ReturnType<typeof machine>;
  sessions: number;
  turnsPerRound: number;
  rounds: number;
  llmMs: number;
  writeWithoutExtractionMs: Stats;
  writeWithExtractionMs: Stats;
  p99Ratio: number;
  extractionTurnsPerSecond: number[];
};

const cells = (s: Stats) => [s.p50, s.p95, s.p99, s.p999, s.count].map(String);
const rows = (r: Result): [string, Stats][] => [
  ['POST turns?wait=true, extraction off (offline responder)', r.writeWithoutExtractionMs],
  ['POST turns?wait=true, extractor running', r.writeWithExtractionMs],
];

function table(r: Result): string {
  return [
    textTable(['ms (client-side)', 'P50', 'P95', 'P99', 'P99.9', 'n'], rows(r).map(([name, s]) => [name, ...cells(s)]), ['left', 'right', 'right', 'right', 'right', 'right']),
    `write P99 with / without extraction: ${r.p99Ratio} (target <= 1.10); extraction throughput: ${r.extractionTurnsPerSecond.join(', ')} turns/s`,
    `Machine: ${describeMachine(r.machine)}`,
  ].join('\n');
}

function markdown(r: Result): string {
  return [
    `# Extraction: throughput, and the write path with the extractor running`,
    '',
    `Machine: ${describeMachine(r.machine)}. One API, one embedder, one retriever, and (extraction on) one extractor, over loopback HTTP; local embedder.`,
    `Each round writes ${r.sessions} sessions of ${r.turnsPerRound / r.sessions} turns (two per request, ${opts.concurrency} sessions at once, each request with ?wait=true) on a fresh stack;`,
    `${r.rounds} rounds of each setting, alternating. With extraction on, the LLM is a scripted stand-in on the OpenAI wire format answering after ${r.llmMs} ms`,
    '(one fact per turn, every candidate added): the figures are the pipeline\'s, not a model\'s.',
    '',
    '| ms (client-side) | P50 | P95 | P99 | P99.9 | n |',
    '|---|---|---|---|---|---|',
    ...rows(r).map(([name, s]) => `| ${name} | ${cells(s).join(' | ')} |`),
    '',
    `Write P99 with the extractor running / without: **${r.p99Ratio}** (target ≤ 1.10).`,
    `Extraction throughput, from the first write until every turn is extracted (writing included): ${r.extractionTurnsPerSecond.join(', ')} turns/s.`,
    '',
    'Reproduce: `npm run bench:extract -- --write-docs` (`--sessions`, `--turns`, `--concurrency`, `--rounds`, `--llm-ms`).',
  ].join('\n');
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
