import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@app/memory/config/load-config';
import { LATENCY_BUCKETS, METRIC_NAMES, OPERATIONS } from '@app/memory/metrics';
import { ApiClient } from '../../apps/cli/src/http/api-client';
import type { Timings } from '../../apps/cli/src/http/api-types';
import { buildLatencyReport } from '../../apps/cli/src/report/latency-report';
import { ManagedProcess } from '../../apps/cli/src/stack/managed-process';
import { type StackHandle, startStack } from '../../apps/cli/src/stack/stack';
import { OpenAiWireServer } from '../support/openai-wire-server';
import { freePort, RedisServer } from '../support/redis-server';
import { dashboardQueries, loadDashboard, metricNames, resolveVariables } from './dashboard-queries';
import { PrometheusApi } from './prometheus-api';

/**
 * A scripted LLM on the OpenAI wire format: chat answers echo the question, and the extractor's structured requests
 * get one fact per turn, each added.
 */
const scriptedLlm = (messages: { role: string; content: string }[], request: Record<string, unknown>): string => {
  const schema = (request.response_format as { json_schema?: { name?: string } } | undefined)?.json_schema?.name;
  if (schema === undefined) return `You asked: ${messages.at(-1)?.content ?? ''}`;
  const input = JSON.parse(messages.at(-1)!.content) as { turns?: { id: string; content: string }[]; candidates?: { candidate: number }[] };
  if (schema === 'memory_facts') {
    return JSON.stringify({ facts: input.turns!.map((t) => ({ content: `The user said: ${t.content}`, type: 'fact', entities: [], sourceTurnIds: [t.id] })) });
  }
  return JSON.stringify({ decisions: input.candidates!.map((c) => ({ candidate: c.candidate, event: 'ADD', memoryId: null, content: null })) });
};

/** The whole pipeline, scraped by a real Prometheus: every dashboard query must return data. */
describe('the Grafana dashboard on a real Prometheus', () => {
  const wire = new OpenAiWireServer({ dim: 64, reply: scriptedLlm });
  const dashboard = loadDashboard();
  const queries = dashboardQueries(dashboard).map((q) => ({ ...q, promql: resolveVariables(q.expr, dashboard, '1m') }));
  const logs: string[] = [];
  const log = (name: string, line: string) => logs.push(`[${name}] ${line}`);
  const dir = mkdtempSync(join(tmpdir(), 'agent-memory-prometheus-'));
  const redis = new RedisServer();
  let stack: StackHandle | undefined;
  let prometheus: ManagedProcess | undefined;
  let promUrl = '';
  let prom: PrometheusApi;
  const query = (promql: string) => prom.query(promql);
  const cycles: Timings[] = [];

  /** Polls until `check` passes: scrapes land every second, but not at a moment the test can know. */
  async function eventually(check: () => Promise<void>, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        return await check();
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  /** Starts everything and drives two rounds of traffic. */
  async function start(): Promise<void> {
    if (spawnSync('prometheus', ['--version']).error) {
      throw new Error("The `prometheus` binary is not on PATH: install Debian's prometheus package (.ci/run does).");
    }
    await Promise.all([redis.start(), wire.start()]);
    // A real LLM provider, so the extractor runs and its panels have data too.
    const env = { LOG_LEVEL: 'warn', LLM_PROVIDER: 'openai-compatible', OPENAI_BASE_URL: wire.baseURL, EXTRACT_QUIET_MS: '100' };
    stack = await startStack({ config: loadConfig(env), redisUrl: redis.url, log });

    const job = (name: string, urls: string[]) => ({
      job_name: name,
      static_configs: [{ targets: urls.map((u) => new URL(u).host) }],
    });
    const workers = Object.entries(stack.workerMetrics);
    const config = {
      global: { scrape_interval: '1s', evaluation_interval: '1s' },
      scrape_configs: [
        job('api', [stack.apiUrl]),
        ...['embedder', 'retriever', 'extractor'].map((app) => job(app, workers.filter(([name]) => name.startsWith(app)).map(([, url]) => url))),
      ],
    };
    writeFileSync(join(dir, 'prometheus.yml'), JSON.stringify(config)); // JSON is YAML
    const port = await freePort();
    promUrl = `http://127.0.0.1:${port}`;
    prom = new PrometheusApi(promUrl);
    prometheus = new ManagedProcess(
      'prometheus',
      'prometheus',
      [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`],
      log,
    );
    await prometheus.start();
    await eventually(async () => {
      if (!(await fetch(`${promUrl}/-/ready`)).ok) throw new Error('prometheus is not ready');
    });

    // Prometheus sees a histogram series first with what it already counted, so rate() only moves once a
    // second round of traffic lands after the first scrape of every series.
    const api = new ApiClient({ url: stack.apiUrl, apiKey: stack.apiKey });
    const facts = ['My dog is called Biscuit.', 'I live in Lisbon and work as a nurse.', 'My favourite food is grilled sardines.'];
    for (const round of [1, 2]) {
      for (const content of facts) await api.addTurns('s1', [{ role: 'user', content: `${content} (${round})` }], true);
      for (const question of ['What is my dog called?', 'Where do I live?', 'What food do I like?']) {
        cycles.push((await api.chat('s1', question)).timings);
      }
      await api.memories('s1', 'where do I live');
      // The other endpoints, as an agent with its own LLM calls them: a write, its history until stored, a forget.
      const other = `other-${round}`;
      await api.addTurns(other, [{ role: 'user', content: 'A turn to forget.' }]);
      await eventually(async () => expect((await api.history(other)).total).toBe(1));
      await api.forget(other);
      await eventually(async () => {
        const res = await fetch(`${stack!.apiUrl}/v1/sessions/s1/long-term-memories`, { headers: { authorization: `Bearer ${stack!.apiKey}` } });
        expect(((await res.json()) as { total: number }).total).toBeGreaterThanOrEqual(facts.length * round);
      });
      const doneAt = Date.now() / 1000;
      await eventually(async () => {
        const scraped = await query(`timestamp(up) > ${doneAt}`);
        expect(scraped.map((s) => s.metric.job).sort()).toEqual(['api', 'embedder', 'extractor', 'retriever']);
      });
    }
  }

  beforeAll(async () => {
    // The children's output explains most start-up failures.
    await start().catch((err: Error) => {
      throw new Error(`${err.message}\n--- last output of the processes ---\n${logs.slice(-40).join('\n')}`);
    });
  }, 90_000);

  afterAll(async () => {
    await prometheus?.stop();
    await stack?.stop();
    await Promise.all([redis.stop(), wire.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('scrapes the api and one replica of each worker', async () => {
    await eventually(async () => {
      const up = await query('sum by (job) (up)');
      expect(Object.fromEntries(up.map((s) => [s.metric.job, s.value[1]]))).toEqual({ api: '1', embedder: '1', extractor: '1', retriever: '1' });
    });
  });

  it('returns data for every expression of the dashboard', async () => {
    await eventually(async () => {
      expect(await prom.expressionsWithoutData(dashboard, '1m')).toEqual([]);
    });
  });

  it('has each of the five operations in the percentile panels', async () => {
    const percentiles = queries.filter((q) => q.expr.startsWith('histogram_quantile') && q.expr.includes('by (le, operation)'));
    expect(percentiles.length).toBeGreaterThanOrEqual(4);
    await eventually(async () => {
      for (const q of percentiles) {
        const operations = (await query(q.promql)).filter((s) => Number.isFinite(Number(s.value[1]))).map((s) => s.metric.operation);
        expect(operations.sort()).toEqual([...OPERATIONS].sort());
      }
    });
  });

  it('finds every metric the dashboard reads among the scraped ones', async () => {
    const res = await fetch(`${promUrl}/api/v1/label/__name__/values`);
    const scraped = new Set(((await res.json()) as { data: string[] }).data);
    const missing = [...new Set(queries.flatMap((q) => metricNames(q.promql)))].filter((n) => !scraped.has(n));
    expect(missing).toEqual([]);
  });

  it('records an operation for every endpoint, not only inside chat', async () => {
    await eventually(async () => {
      const series = await query(`sum by (endpoint, operation) (${METRIC_NAMES.operationDuration}_count)`);
      const counts = Object.fromEntries(series.map((s) => [`${s.metric.endpoint} ${s.metric.operation}`, Number(s.value[1])]));
      const chat = Object.fromEntries(OPERATIONS.map((op) => [`chat ${op}`, 6]));
      const { 'history read': history, 'memories_list read': listings, ...rest } = counts;
      expect(rest).toEqual({ ...chat, 'turns write': 2, 'turns_wait write': 6, 'memories read': 2, 'forget write': 2 });
      expect(history).toBeGreaterThanOrEqual(2); // read until the turn to forget was stored
      expect(listings).toBeGreaterThanOrEqual(2); // read until the round's memories were extracted
    });
  });

  it("agrees with the CLI latency report's percentiles within histogram-bucket precision", async () => {
    const report = buildLatencyReport(cycles);
    // The processes are fresh, so their cumulative buckets hold exactly this run's chat cycles.
    const checks: string[] = [];
    for (const [q, key] of [['0.5', 'p50'], ['0.95', 'p95'], ['0.99', 'p99'], ['0.999', 'p999']] as const) {
      const samples = await query(`histogram_quantile(${q}, sum by (le, operation) (${METRIC_NAMES.operationDuration}_bucket{endpoint="chat"}))`);
      for (const operation of OPERATIONS) {
        const exact = report.operations[operation][key] / 1000;
        const fromPrometheus = Number(samples.find((s) => s.metric.operation === operation)?.value[1]);
        // PromQL interpolates inside the bucket that holds the exact nearest-rank value (or gives the top bound).
        const i = LATENCY_BUCKETS.findIndex((le) => exact <= le);
        const [low, high] = i === -1 ? [LATENCY_BUCKETS.at(-1)!, LATENCY_BUCKETS.at(-1)!] : [LATENCY_BUCKETS[i - 1] ?? 0, LATENCY_BUCKETS[i]];
        if (!(fromPrometheus >= low && fromPrometheus <= high)) checks.push(`${operation} ${key}: exact ${exact}, PromQL ${fromPrometheus}`);
      }
    }
    expect(report.cycles).toBe(6);
    expect(checks).toEqual([]);
  });
});
