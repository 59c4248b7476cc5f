import { Command } from 'commander';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ContextAssembler, DEFAULT_FILL_ORDER, type FillStep } from '@app/memory/context/context-assembler';
import { MEMORY_PREAMBLE } from '@app/memory/context/context-messages';
import type { ContextPart, RetrievedMemory } from '@app/memory/context/memory-context';
import { countTokens } from '@app/memory/context/tokenizer';
import { loadConfig } from '@app/memory/config/load-config';
import { percentiles } from '@app/memory/metrics/quantiles';
import type { Role, StoredTurn } from '@app/memory/store/turn';
import { type LocomoConversation, readLocomo, toClientId } from '../apps/cli/src/bench/locomo/locomo-data';
import { ScriptedLlm } from '../apps/cli/src/bench/scripted-llm';
import { syntheticTexts } from '../apps/cli/src/bench/synthetic-corpus';
import { ApiClient } from '../apps/cli/src/http/api-client';
import { writeBenchmarkDocs } from '../apps/cli/src/report/benchmark-docs';
import { describeMachine, machine } from '../apps/cli/src/report/machine';
import { textTable } from '../apps/cli/src/report/text-table';
import { freePort } from '../apps/cli/src/stack/free-port';
import { type StackHandle } from '../apps/cli/src/stack/stack';
import { startStackStoppedBySignal } from '../apps/cli/src/commands/stack.command';

/**
 * The context an LLM is sent per chat, three ways, over real HTTP on a private stack whose LLM is a scripted stand-in
 * (the summariser's answers are extractive, see ScriptedLlm): the full history; the recent turns plus retrieval (the
 * context endpoint with includeSummary false); and the same plus the session's rolling summary. For sessions of 100,
 * 1,000 and 10,000 turns: the tokens sent per chat (the messages plus the question) and the time to get the context.
 * With --data (LoCoMo), also the fill order measured: at tight budgets, which order of the parts keeps the most
 * evidence turns of LoCoMo's questions in the context, and what each budget leaves out.
 */
const program = new Command('bench-context')
  .option('--sizes <list>', 'session sizes in turns', '100,1000,10000')
  .option('--queries <n>', 'questions asked per size', '20')
  .option('--data <file>', 'LoCoMo JSON (e.g. /work/shared/data/locomo-dev.json): its turns and questions, and the fill-order measurement')
  .option('--questions <n>', 'questions per LoCoMo conversation in the fill-order measurement', '40')
  .option('--budgets <list>', 'tight budgets (tokens) of the fill-order measurement', '256,512,1024,2048')
  .option('--llm-ms <ms>', "the scripted LLM's time per answer", '5')
  .option('--json <file>', 'where to write the figures as JSON', 'reports/bench-context.json')
  .option('--write-docs', 'also write docs/benchmarks/context.{json,md}')
  .parse();

const opts = program.opts<{ sizes: string; queries: string; data?: string; questions: string; budgets: string; llmMs: string; json: string; writeDocs?: boolean }>();
const list = (s: string) => s.split(',').map(Number);
const round2 = (x: number) => Math.round(x * 100) / 100;
const RECENT_TURNS = 4;
const SUMMARY_MAX_TURNS = 100;
const PREAMBLE = `${MEMORY_PREAMBLE}\n`;
/** The orders compared: the recent reserve, summary and memories in turn first, and the summary last. */
const ORDERS: FillStep[][] = [
  ['reserve', 'memories', 'summary', 'recent'],
  ['reserve', 'summary', 'memories', 'recent'],
  ['summary', 'reserve', 'memories', 'recent'],
  ['memories', 'reserve', 'summary', 'recent'],
  ['reserve', 'memories', 'recent', 'summary'],
];

interface Turn {
  content: string;
  timestamp: number;
  id: string;
}
interface Hit {
  turnId: string;
  sessionId: string;
  seq: number;
  role: Role;
  content: string;
  timestamp: string;
  similarity: number;
  score: number;
}
interface Context {
  messages: { role: string; content: string }[];
  tokens: number;
  memories: Hit[];
  summary?: { text: string; fromSeq: number; toSeq: number };
  droppedParts: Record<ContextPart, number>;
}
type Strategy = 'full history' | 'recent + retrieval' | 'recent + retrieval + summary';
interface SizeRow {
  turns: number;
  strategy: Strategy;
  tokensPerChat: { mean: number; max: number };
  contextMs: { p50: number; p95: number };
  summaryTokens?: number;
}

class Bench {
  private readonly api: ApiClient;
  constructor(private readonly stack: StackHandle) {
    this.api = new ApiClient({ url: stack.apiUrl });
  }

  async write(session: string, turns: Turn[]): Promise<Map<string, number>> {
    const seqs = new Map<string, number>();
    for (let i = 0; i < turns.length; i += 100) {
      const batch = turns.slice(i, i + 100).map((t, j) => ({ role: (i + j) % 2 ? ('assistant' as const) : ('user' as const), content: t.content, timestamp: t.timestamp, id: t.id }));
      for (const t of (await this.api.addTurns(session, batch, true)).turns) seqs.set(t.turnId, t.seq);
    }
    return seqs;
  }

  /** Waits until the summary watermark stops moving within reach of the recent window. */
  async summarised(session: string, turns: number): Promise<void> {
    const target = Math.max(0, turns - RECENT_TURNS - SUMMARY_MAX_TURNS);
    let last = -1;
    for (let stable = 0, deadline = Date.now() + 30 * 60_000; stable < 3; ) {
      if (Date.now() > deadline) throw new Error(`${session} was not summarised in time (watermark ${last})`);
      await new Promise((r) => setTimeout(r, 500));
      const { watermark } = await this.get<{ watermark: number }>(`/v1/sessions/${session}/summary`);
      stable = watermark >= target && watermark === last ? stable + 1 : 0;
      last = watermark;
    }
  }

  context(session: string, body: Record<string, unknown>): Promise<Context> {
    return this.post<Context>(`/v1/sessions/${session}/context`, body);
  }

  async history(session: string): Promise<StoredTurn[]> {
    const turns: StoredTurn[] = [];
    for (let offset = 0; ; offset += 500) {
      const page = await this.api.history(session, offset, 500);
      turns.push(...page.turns.map((t) => ({ ...t, key: String(t.seq), tenant: 'default', session, timestamp: Date.parse(t.timestamp), user: undefined }) as StoredTurn));
      if (turns.length >= page.total || page.turns.length === 0) return turns;
    }
  }

  private async get<T>(path: string): Promise<T> {
    const res = await fetch(`${this.stack.apiUrl}${path}`);
    if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  }

  private async post<T>(path: string, body: unknown): Promise<T> {
    const res = await fetch(`${this.stack.apiUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`POST ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  }
}

const sent = (messages: { content: string }[], question: string) => messages.reduce((n, m) => n + countTokens(m.content), 0) + countTokens(question);

async function sizeSeries(bench: Bench, source: Turn[], questions: string[]): Promise<SizeRow[]> {
  const rows: SizeRow[] = [];
  for (const size of list(opts.sizes)) {
    const session = `size-${size}`;
    const turns = Array.from({ length: size }, (_, i) => ({ ...source[i % source.length], id: `t${i}`, timestamp: source[0].timestamp + i * 1000 }));
    process.stderr.write(`${size} turns: writing, then waiting for the summary\n`);
    await bench.write(session, turns);
    await bench.summarised(session, size);
    const measured: Record<Strategy, { tokens: number[]; ms: number[] }> = {
      'full history': { tokens: [], ms: [] },
      'recent + retrieval': { tokens: [], ms: [] },
      'recent + retrieval + summary': { tokens: [], ms: [] },
    };
    let summaryTokens = 0;
    for (const q of questions.slice(0, Number(opts.queries))) {
      let t = performance.now();
      const history = await bench.history(session);
      const full = [{ content: PREAMBLE }, ...history];
      measured['full history'].ms.push(performance.now() - t);
      measured['full history'].tokens.push(sent(full, q));
      for (const includeSummary of [false, true]) {
        t = performance.now();
        const ctx = await bench.context(session, { query: q, recentTurns: RECENT_TURNS, includeSummary });
        const m = measured[includeSummary ? 'recent + retrieval + summary' : 'recent + retrieval'];
        m.ms.push(performance.now() - t);
        m.tokens.push(sent(ctx.messages, q));
        if (ctx.summary) summaryTokens = countTokens(ctx.summary.text);
      }
    }
    for (const [strategy, m] of Object.entries(measured) as [Strategy, { tokens: number[]; ms: number[] }][]) {
      const p = percentiles(m.ms);
      rows.push({
        turns: size,
        strategy,
        tokensPerChat: { mean: Math.round(m.tokens.reduce((a, b) => a + b, 0) / m.tokens.length), max: Math.max(...m.tokens) },
        contextMs: { p50: round2(p.p50), p95: round2(p.p95) },
        ...(strategy === 'recent + retrieval + summary' ? { summaryTokens } : {}),
      });
    }
    process.stderr.write(`${size} turns: ${rows.slice(-3).map((r) => `${r.strategy} ${r.tokensPerChat.mean} tokens, ${r.contextMs.p50} ms`).join('; ')}\n`);
  }
  return rows;
}

interface OrderRow {
  budget: number;
  order: string;
  /** Mean over questions of the share of their evidence turns in the context (shown, or named in the summary shown). */
  evidenceRecall: number;
  /** Mean dropped per question, by part. */
  dropped: Record<ContextPart, number>;
}

/** The first words of a turn, which the scripted summariser keeps: a turn the summary shown names them is in the context. */
const summaryMark = (content: string) => content.split(/\s+/).slice(0, 12).join(' ');

async function fillOrder(bench: Bench, conversations: LocomoConversation[]): Promise<{ rows: OrderRow[]; questions: number }> {
  const assembler = new ContextAssembler();
  const budgets = list(opts.budgets);
  const acc = new Map<string, { recall: number[]; dropped: Record<ContextPart, number> }>();
  let asked = 0;
  for (const c of conversations) {
    const session = `locomo-${c.id}`;
    process.stderr.write(`fill order: ${c.id}, ${c.turns.length} turns\n`);
    const seqs = await bench.write(session, c.turns.map((t) => ({ content: t.content, timestamp: t.timestamp, id: toClientId(t.diaId) })));
    await bench.summarised(session, c.turns.length);
    const history = await bench.history(session);
    const bySeq = new Map(history.map((t) => [t.seq, t]));
    const recent = history.slice(-RECENT_TURNS);
    for (const q of c.questions.slice(0, Number(opts.questions))) {
      asked++;
      // Every candidate the service offers: the budget is then applied here, in each order.
      const ctx = await bench.context(session, { query: q.question, recentTurns: RECENT_TURNS, maxTokens: 128_000 });
      const memories: RetrievedMemory[] = ctx.memories.map((h) => ({ ...h, key: String(h.seq), session, timestamp: Date.parse(h.timestamp) }));
      const evidence = q.evidence.map((id) => seqs.get(toClientId(id))).filter((s): s is number => s !== undefined);
      for (const budget of budgets) {
        for (const order of ORDERS) {
          const out = await assembler.assemble({ memories, recent, summary: ctx.summary, preamble: PREAMBLE, maxTokens: budget, order });
          const shown = new Set(out.included.map((i) => Number(i.key)));
          const found = evidence.filter((seq) => shown.has(seq) || (out.sections.summary !== '' && out.sections.summary.includes(summaryMark(bySeq.get(seq)?.content ?? '\u0000'))));
          const id = `${budget}|${order.join(' > ')}`;
          const a = acc.get(id) ?? { recall: [], dropped: { preamble: 0, summary: 0, memories: 0, recent: 0 } };
          a.recall.push(evidence.length ? found.length / evidence.length : 0);
          for (const part of Object.keys(a.dropped) as ContextPart[]) a.dropped[part] += out.droppedParts[part];
          acc.set(id, a);
        }
      }
    }
  }
  const rows = [...acc].map(([id, a]) => {
    const [budget, order] = id.split('|');
    const dropped = Object.fromEntries(Object.entries(a.dropped).map(([k, v]) => [k, round2(v / a.recall.length)])) as Record<ContextPart, number>;
    return { budget: Number(budget), order, evidenceRecall: round2((a.recall.reduce((x, y) => x + y, 0) / a.recall.length) * 1000) / 1000, dropped };
  });
  return { rows, questions: asked };
}

async function main(): Promise<void> {
  const llm = await new ScriptedLlm(Number(opts.llmMs), { facts: false }).start();
  const dataDir = mkdtempSync(join(tmpdir(), 'agent-memory-bench-'));
  const env = {
    AUTH_MODE: 'none',
    LOG_LEVEL: 'warn',
    QUEUE_MAX_WAITING: '10000000',
    TENANT_MAX_QUEUED: '10000000',
    RATE_LIMIT_PER_MINUTE: '100000000',
    LLM_PROVIDER: 'openai-compatible',
    OPENAI_BASE_URL: llm.baseURL,
    EXTRACT_QUIET_MS: '200',
    RECENT_TURNS: String(RECENT_TURNS),
    SUMMARY_MAX_TURNS: String(SUMMARY_MAX_TURNS),
  };
  const config = loadConfig(env);
  const stack = await startStackStoppedBySignal({
    config,
    redisUrl: `redis://127.0.0.1:${await freePort()}`,
    dataDir,
    log: (name, line) => name === 'redis' || process.stderr.write(`[${name}] ${line}\n`),
  });
  try {
    const bench = new Bench(stack);
    const conversations = opts.data ? readLocomo(JSON.parse(readFileSync(opts.data, 'utf8'))).conversations : [];
    const source: Turn[] = conversations.length
      ? conversations.flatMap((c) => c.turns.map((t) => ({ content: t.content, timestamp: t.timestamp, id: '' })))
      : syntheticTexts(2000, 5).map((content, i) => ({ content, timestamp: Date.UTC(2024, 0, 1) + i * 1000, id: '' }));
    const questions = conversations.length ? conversations.flatMap((c) => c.questions.map((q) => q.question)) : source.slice(0, 50).map((t) => t.content.split(/\s+/).slice(0, 8).join(' '));
    const sizes = await sizeSeries(bench, source, questions);
    const order = conversations.length ? await fillOrder(bench, conversations) : undefined;
    const result: Result = {
      machine: machine(),
      data: opts.data ? `LoCoMo (${conversations.length} conversations, ${source.length} turns)` : 'synthetic',
      recentTurns: RECENT_TURNS,
      maxContextTokens: config.MAX_CONTEXT_TOKENS,
      summaryThresholdTokens: config.SUMMARY_THRESHOLD_TOKENS,
      sizes,
      ...(order ? { fillOrder: { defaultOrder: DEFAULT_FILL_ORDER.join(' > '), questions: order.questions, rows: order.rows } } : {}),
    };
    process.stdout.write(`${table(result)}\n`);
    mkdirSync(dirname(opts.json), { recursive: true });
    writeFileSync(opts.json, `${JSON.stringify(result, null, 2)}\n`);
    process.stderr.write(`wrote ${opts.json}\n`);
    if (opts.writeDocs) process.stderr.write(`wrote ${writeBenchmarkDocs('context', result, markdown(result)).join(', ')}\n`);
  } finally {
    await stack.stop();
    await llm.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

interface Result {
  machine: ReturnType<typeof machine>;
  data: string;
  recentTurns: number;
  maxContextTokens: number;
  summaryThresholdTokens: number;
  sizes: SizeRow[];
  fillOrder?: { defaultOrder: string; questions: number; rows: OrderRow[] };
}

const sizeCells = (r: SizeRow) => [String(r.turns), r.strategy, String(r.tokensPerChat.mean), String(r.tokensPerChat.max), String(r.contextMs.p50), String(r.contextMs.p95)];
const SIZE_HEAD = ['turns', 'context', 'tokens per chat (mean)', 'max', 'context ms P50', 'P95'];
const orderCells = (r: OrderRow) => [String(r.budget), r.order, r.evidenceRecall.toFixed(3), String(r.dropped.preamble), String(r.dropped.summary), String(r.dropped.memories), String(r.dropped.recent)];
const ORDER_HEAD = ['budget', 'fill order (after the preamble)', 'evidence in context', 'preamble dropped', 'summary dropped', 'memories dropped', 'recent dropped'];

function table(r: Result): string {
  return [
    textTable(SIZE_HEAD, r.sizes.map(sizeCells), ['right', 'left', 'right', 'right', 'right', 'right']),
    ...(r.fillOrder ? ['', textTable(ORDER_HEAD, r.fillOrder.rows.map(orderCells), ['right', 'left', 'right', 'right', 'right', 'right', 'right'])] : []),
    `Machine: ${describeMachine(r.machine)}`,
  ].join('\n');
}

/** Per budget, the orders that kept the most evidence (ties listed together). */
function bestOrders(rows: OrderRow[]): { budget: number; orders: string[]; recall: number }[] {
  return [...new Set(rows.map((r) => r.budget))].map((budget) => {
    const at = rows.filter((r) => r.budget === budget);
    const recall = Math.max(...at.map((r) => r.evidenceRecall));
    return { budget, recall, orders: at.filter((r) => r.evidenceRecall === recall).map((r) => r.order) };
  });
}

function markdown(r: Result): string {
  const row = (cells: string[]) => `| ${cells.join(' | ')} |`;
  const rule = (n: number) => `|${'---|'.repeat(n)}`;
  return [
    '# Context: tokens per chat, and what goes first when the budget is tight',
    '',
    `Machine: ${describeMachine(r.machine)}. One API, one embedder, one retriever and one extractor over loopback HTTP; local embedder.`,
    `Turns: ${r.data}. The LLM is a scripted stand-in on the OpenAI wire format: it extracts no facts, and its session summary is`,
    'extractive (the previous summary and the first 12 words of each new turn, cut to the newest 400 words), so the summary figures',
    "are the pipeline's and this stand-in's, not a model's.",
    '',
    '## Tokens sent to the LLM per chat, and the time to get the context',
    '',
    `Per question: full history = the preamble and every stored turn (read through GET turns, 500 a page); recent + retrieval = the`,
    `context endpoint with includeSummary false (${r.recentTurns} recent turns, MAX_CONTEXT_TOKENS ${r.maxContextTokens}); + summary = the same with the`,
    `session's rolling summary (SUMMARY_THRESHOLD_TOKENS ${r.summaryThresholdTokens}). Tokens: o200k, the messages' contents plus the question.`,
    'Time: client-observed, HTTP included (the context endpoint embeds the question, searches and assembles).',
    '',
    row(SIZE_HEAD),
    rule(SIZE_HEAD.length),
    ...r.sizes.map((s) => row(sizeCells(s))),
    '',
    ...(r.fillOrder
      ? [
          '## Fill order, measured',
          '',
          `${r.fillOrder.questions} LoCoMo questions (categories 1-4). For each, the service's candidates (the summary, the memories it retrieved, the`,
          `${r.recentTurns} recent turns) are packed into each budget in each order by the same ContextAssembler, after the preamble; a question's`,
          "evidence turn counts as in the context when it is shown, or when the summary shown names it (its first 12 words, as the stand-in writes",
          'them). Dropped: mean per question, by part (the preamble and the summary count 1 when left out).',
          '',
          row(ORDER_HEAD),
          rule(ORDER_HEAD.length),
          ...r.fillOrder.rows.map((o) => row(orderCells(o))),
          '',
          ...bestOrders(r.fillOrder.rows).map(({ budget, orders, recall }) => `- At ${budget} tokens the most evidence (${recall.toFixed(3)}) is kept by: ${orders.join('; ')}.`),
          '',
          `The default fill order is **${r.fillOrder.defaultOrder}** (DEFAULT_FILL_ORDER).`,
        ]
      : []),
    '',
    'Reproduce: `npm run bench:context -- --data /work/shared/data/locomo-dev.json --write-docs` (`--sizes`, `--queries`, `--questions`, `--budgets`, `--llm-ms`).',
  ].join('\n');
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
