import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QueueEvents } from 'bullmq';
import { loadConfig } from '@app/memory/config/load-config';
import { METRIC_NAMES } from '@app/memory/metrics/metric-names';
import { QUEUES } from '@app/memory/queues/job-contracts';
import { ApiClient } from '../../apps/cli/src/http/api-client';
import { SCENARIOS } from '../../apps/cli/src/scenarios';
import { runScenario } from '../../apps/cli/src/scenarios/run-scenario';
import { loadDashboard } from '../observability/dashboard-queries';
import { type ActiveTarget, PrometheusApi } from '../observability/prometheus-api';
import { metricValue, scrape } from '../reliability/support/prometheus';
import { QueueProbe } from '../reliability/support/queue-probe';
import { auditStore } from '../reliability/support/store-audit';
import { TurnFlood } from '../reliability/support/turn-flood';
import { waitUntil } from '../reliability/support/wait-until';
import { freePort } from '../support/redis-server';
import { type ComposeContainer, ComposeProject } from './support/compose-project';
import { HealthcheckLoop } from './support/healthcheck-loop';

/** Set by scripts/compose-e2e.sh, which starts podman's API service and builds the images first. */
const PROJECT = process.env.COMPOSE_E2E_PROJECT;
const SERVICES = process.env.COMPOSE_E2E_SERVICES?.split(' ').filter(Boolean) ?? [];

const TENANT = 'e2e';
const SCALE: Record<string, number> = { embedder: 2, retriever: 2, extractor: 2 };
const EMBED_CONCURRENCY = 4;
/**
 * Passed through docker-compose.yml like a user's `.env`: short job locks, so a killed embedder's jobs are taken
 * over in seconds, and few jobs at a time per embedder, so the kill certainly interrupts some.
 */
const SETTINGS = { JOB_LOCK_MS: '2000', JOB_STALLED_INTERVAL_MS: '1000', EMBED_CONCURRENCY: String(EMBED_CONCURRENCY) };

/** A Prometheus duration of the loaded configuration (`10s`, `1m`, `500ms`) in ms. */
function durationMs(text: string): number {
  const m = /^(\d+)(ms|s|m|h)$/.exec(text);
  if (!m) throw new Error(`unexpected Prometheus duration "${text}"`);
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
}

/** scrape_interval and the DNS refresh_interval of one job of the loaded configuration. */
function jobIntervals(yaml: string, job: string): { scrapeMs: number; refreshMs: number } {
  const section = yaml.split(/^- job_name: /m).find((s) => s.startsWith(`${job}\n`));
  const scrapeInterval = section && /^\s+scrape_interval: (\S+)$/m.exec(section)?.[1];
  const refreshInterval = section && /^\s+refresh_interval: (\S+)$/m.exec(section)?.[1];
  if (!scrapeInterval || !refreshInterval) throw new Error(`no scrape and refresh interval for job ${job} in:\n${yaml}`);
  return { scrapeMs: durationMs(scrapeInterval), refreshMs: durationMs(refreshInterval) };
}

const hostOf = (t: ActiveTarget) => t.labels.instance.replace(/:\d+$/, '');

describe('docker-compose.yml on podman, workers scaled', () => {
  const dir = mkdtempSync(join(tmpdir(), 'agent-memory-compose-'));
  const apiKey = `sk-e2e-${randomBytes(16).toString('hex')}`;
  const config = loadConfig({ API_KEYS: `${TENANT}:${apiKey}`, ...SETTINGS });
  const dashboard = loadDashboard();
  const summary: Record<string, unknown> = { project: PROJECT, services: SERVICES, scale: SCALE, settings: SETTINGS };
  let project: ComposeProject;
  let health: HealthcheckLoop;
  let api: ApiClient;
  let prometheus: PrometheusApi;
  let apiUrl = '';
  let probe: QueueProbe | undefined;
  let events: QueueEvents | undefined;
  let logsShown = false;

  /** On the first failure, the error carries each container's last log lines. */
  const withLogs = (fn: () => Promise<void>) => async () => {
    try {
      await fn();
    } catch (err) {
      if (err instanceof Error && project && !logsShown) {
        logsShown = true;
        const tail = await project.logTail().catch((e: Error) => `(no logs: ${e.message})`);
        err.message += `\n--- each container's last log lines ---\n${tail}`;
      }
      throw err;
    }
  };

  /** Before `down`: once the network is gone, their reconnects would reach whatever else answers at that address. */
  const closeQueueClients = async () => {
    await events?.close();
    await probe?.close();
    [events, probe] = [undefined, undefined];
  };

  const running = async (service: string): Promise<ComposeContainer[]> =>
    (await project.containers()).filter((c) => c.service === service && c.state === 'running');

  beforeAll(
    withLogs(async () => {
      if (!PROJECT || SERVICES.length === 0) throw new Error('run this test with `npm run test:compose` (scripts/compose-e2e.sh)');
      const [apiPort, prometheusPort] = [await freePort(), await freePort()];
      apiUrl = `http://127.0.0.1:${apiPort}`;
      api = new ApiClient({ url: apiUrl, apiKey });
      prometheus = new PrometheusApi(`http://127.0.0.1:${prometheusPort}`);
      const envFile = join(dir, 'none.env');
      writeFileSync(envFile, '');
      project = new ComposeProject({
        name: PROJECT,
        services: SERVICES,
        // The published ports go on loopback only, on free ports: "127.0.0.1:P" fills "${API_PORT:-3000}:3000".
        env: { API_PORT: `127.0.0.1:${apiPort}`, PROMETHEUS_PORT: `127.0.0.1:${prometheusPort}`, API_KEYS: `${TENANT}:${apiKey}`, ...SETTINGS },
        envFile,
      });
      await project.down(); // what an interrupted run may have left
      health = new HealthcheckLoop(project);
      health.start();
      const started = Date.now();
      await project.up(SCALE);
      summary.upSeconds = (Date.now() - started) / 1000;
    }),
    600_000,
  );

  afterAll(async () => {
    await closeQueueClients();
    await health?.stop();
    if (project && (await project.leftovers()).length > 0) await project.down();
    rmSync(dir, { recursive: true, force: true });
    console.log(JSON.stringify({ test: 'compose-e2e', ...summary }, null, 2));
  }, 120_000);

  it(
    'runs every service healthy, with the replicas asked for',
    withLogs(async () => {
      const started = Date.now();
      await waitUntil(
        'every container is running and healthy',
        async () => (await project.containers()).every((c) => c.state === 'running' && c.health === 'healthy'),
        180_000,
        () => 'see the containers below',
      );
      summary.healthySeconds = (Date.now() - started) / 1000;
      const containers = await project.containers();
      const count = (service: string) => containers.filter((c) => c.service === service).length;
      expect(Object.fromEntries(SERVICES.map((s) => [s, count(s)]))).toEqual(Object.fromEntries(SERVICES.map((s) => [s, SCALE[s] ?? 1])));
      expect(containers.filter((c) => c.health !== 'healthy')).toEqual([]);
      // A stand-in's label says what it stands in for; the project's image inherits the node stand-in's.
      const standIn = async (image: string) => {
        const format = '{{index .Labels "agent-memory.stand-in"}}|{{index .Labels "org.opencontainers.image.description"}}';
        const [kind, description] = (await project.podman(['image', 'inspect', '-f', format, image])).trim().split('|');
        return kind ? description : 'no stand-in';
      };
      const images = [...new Set(containers.map((c) => c.image))];
      summary.imagesAndTheirStandIns = Object.fromEntries(await Promise.all(images.map(async (image) => [image, await standIn(image)])));
    }),
  );

  it(
    '/readyz counts the worker replicas',
    withLogs(async () => {
      const readyz = async () => (await (await fetch(`${apiUrl}/readyz`)).json()) as { checks: Record<string, string> };
      // The compose default is the offline responder: extraction is off, and /readyz says so rather than counting extractors.
      const want = {
        [`${QUEUES.embed}Workers`]: `ok (${SCALE.embedder})`,
        [`${QUEUES.retrieve}Workers`]: `ok (${SCALE.retriever})`,
        [`${QUEUES.extract}Workers`]: 'off (LLM_PROVIDER=local: no model to extract facts with)',
      };
      const counted = (checks: Record<string, string>) => Object.entries(want).every(([k, v]) => checks[k] === v);
      let last = '';
      // Kept for the failure message: the first request through the published port is where a wrong port shows.
      const counts = async () => {
        try {
          const body = await readyz();
          last = JSON.stringify(body);
          return counted(body.checks);
        } catch (err) {
          last = `${(err as Error).message} (${((err as Error).cause as Error | undefined)?.message})`;
          return false;
        }
      };
      await waitUntil(`/readyz at ${apiUrl} counts every replica`, counts, 30_000, () => `last answer: ${last}`);
      const { checks } = await readyz();
      expect(checks).toMatchObject({ redis: 'ok', ...want });
      summary.readyz = checks;
    }),
  );

  it(
    "gives RediSearch ON_TIMEOUT FAIL through REDISEARCH_ARGS, with the image's own module arguments kept",
    withLogs(async () => {
      // The stand-in has no search module: what is checked is what redis-stack-server's entrypoint hands the module.
      const [redis] = await running('redis');
      const env = JSON.parse(await project.podman(['container', 'inspect', '-f', '{{json .Config.Env}}', redis.id])) as string[];
      const args = env.find((e) => e.startsWith('REDISEARCH_ARGS='))?.slice('REDISEARCH_ARGS='.length).split(/\s+/);
      expect(args).toEqual(['MAXSEARCHRESULTS', '10000', 'MAXAGGREGATERESULTS', '10000', 'ON_TIMEOUT', 'FAIL']);
    }),
  );

  it(
    'passes every recall probe of customer_support through the published port',
    withLogs(async () => {
      const run = await runScenario(api, SCENARIOS.customer_support);
      summary.customerSupport = { recall: run.recall, e2eP99Ms: run.latency.operations.e2e.p99 };
      expect(run.recall.probes).toBeGreaterThan(0);
      expect(run.probes.filter((p) => p.rank === null)).toEqual([]);
    }),
  );

  it(
    'has Prometheus scrape every replica, found through Docker DNS, all up',
    withLogs(async () => {
      // Every container of the app's image serves /metrics, and its service has a job of the same name.
      const containers = await project.containers();
      const appImage = containers.find((c) => c.service === 'api')!.image;
      const want = Object.fromEntries(
        [...new Set(containers.filter((c) => c.image === appImage).map((c) => c.service))]
          .sort()
          .map((service) => [service, containers.filter((c) => c.service === service).map((c) => `${c.ip} up`).sort()]),
      );
      const byJob = async () => {
        const jobs: Record<string, string[]> = {};
        for (const t of await prometheus.activeTargets()) (jobs[t.labels.job] ??= []).push(`${hostOf(t)} ${t.health}`);
        return Object.fromEntries(Object.entries(jobs).sort().map(([job, list]) => [job, list.sort()]));
      };
      let seen = {};
      await waitUntil('every replica is a target and up', async () => JSON.stringify((seen = await byJob())) === JSON.stringify(want), 60_000, () =>
        JSON.stringify({ want, seen }),
      );
      expect(await byJob()).toEqual(want);
      summary.targets = Object.fromEntries(Object.entries(want).map(([job, list]) => [job, list.length]));
    }),
  );

  it(
    'returns data for every expression of the dashboard',
    withLogs(async () => {
      // rate() needs two scrapes of a series with traffic between them: a series first appears with the first round
      // (customer_support), so every target is scraped after it, then after a second round.
      const targets = (await prometheus.activeTargets()).length;
      const scrapedSinceNow = async () => {
        const since = Date.now() / 1000;
        await waitUntil('every target is scraped again', async () => (await prometheus.query(`timestamp(up) > ${since}`)).length === targets, 30_000);
      };
      await scrapedSinceNow();
      const run = await runScenario(api, SCENARIOS.research_assistant);
      summary.researchAssistant = { recall: run.recall };
      expect(run.probes.filter((p) => p.rank === null)).toEqual([]);
      await scrapedSinceNow();
      let empty: string[] = [];
      // Compose runs the offline responder, so extraction is off and its latency histogram has no observation (its
      // counters do, at 0); test/observability gives the extraction panels data with a scripted LLM.
      const offWithoutLlm = [`${METRIC_NAMES.extractionDuration}_bucket`];
      await waitUntil('every expression returns data', async () => (empty = await prometheus.expressionsWithoutData(dashboard, '1m', offWithoutLlm)).length === 0, 20_000, () => empty.join('\n'));
      expect(empty).toEqual([]);
    }),
  );

  it(
    'adds a third embedder target within the DNS refresh interval',
    withLogs(async () => {
      const { scrapeMs, refreshMs } = jobIntervals(await prometheus.loadedConfig(), 'embedder');
      const before = new Set((await running('embedder')).map((c) => c.id));
      await project.up({ ...SCALE, embedder: 3 });
      const started = Date.now();
      const added = (await running('embedder')).filter((c) => !before.has(c.id));
      expect(added).toHaveLength(1);
      const target = async () => (await prometheus.activeTargets()).find((t) => t.labels.job === 'embedder' && hostOf(t) === added[0].ip);
      // Prometheus re-resolves the name every refresh interval, then passes new targets on at most every 5 s, twice
      // (discovery manager, then scrape manager); the first scrape follows within one scrape interval.
      const discoverBy = refreshMs + 10_000;
      await waitUntil('the new embedder is a target', async () => (await target()) !== undefined, discoverBy);
      const discoveredMs = Date.now() - started;
      await waitUntil('the new embedder target is up', async () => (await target())?.health === 'up', discoverBy + scrapeMs - discoveredMs);
      summary.scaledTo3 = { refreshIntervalMs: refreshMs, scrapeIntervalMs: scrapeMs, targetAfterMs: discoveredMs, upAfterMs: Date.now() - started };
      expect((await prometheus.activeTargets()).filter((t) => t.labels.job === 'embedder' && t.health === 'up')).toHaveLength(3);
    }),
  );

  it(
    'stores every acknowledged turn exactly once with an embedder killed mid-flood',
    withLogs(async () => {
      const [redis] = await running('redis');
      const redisUrl = `redis://${redis.ip}:6379`;
      const queues = new QueueProbe(redisUrl, config.KEY_PREFIX);
      const stalled: string[] = [];
      probe = queues;
      events = new QueueEvents(QUEUES.embed, { connection: { url: redisUrl }, prefix: `${config.KEY_PREFIX}-bull` });
      events.on('stalled', ({ jobId }) => stalled.push(jobId));
      await events.waitUntilReady();

      const embedders = await running('embedder');
      const [victim] = embedders;
      const victimTarget = (await prometheus.activeTargets()).find((t) => t.labels.job === 'embedder' && hostOf(t) === victim.ip)!;
      const victimMetrics = `http://${victimTarget.labels.instance}/metrics`;

      const sessions = ['flood-a', 'flood-b'];
      const [loops, batchesPerLoop, batchSize] = [4, 50, 20];
      const total = loops * batchesPerLoop * batchSize;
      const flood = new TurnFlood({ url: apiUrl, apiKey, sessions, loops, batchesPerLoop, batchSize, deadlineMs: 180_000 });
      const flooding = flood.run();
      let ackedAtKill: number;
      try {
        const completed = async () => metricValue(await scrape(victimMetrics), 'agent_memory_jobs_total', { queue: QUEUES.embed, outcome: 'completed' });
        await waitUntil('the victim is working', async () => (await completed()) > 0, 60_000);
        await waitUntil('a third of the flood is acknowledged', async () => flood.acknowledgedCount >= total / 3, 60_000);
        // More active jobs than the other replicas can hold means the victim holds some; a backlog keeps it busy.
        await waitUntil(
          'every embedder holds jobs, with a backlog behind them',
          async () =>
            (await queues.queues.embed.getActiveCount()) > EMBED_CONCURRENCY * (embedders.length - 1) && (await queues.queues.embed.getWaitingCount()) >= 50,
          60_000,
        );
        ackedAtKill = flood.acknowledgedCount;
        await project.kill(victim);
      } catch (err) {
        flood.abort(); // its retries would outlive the test
        await flooding.catch(() => undefined);
        throw err;
      }

      const result = await flooding;
      await queues.drained('embed', 120_000);
      const after = (await project.containers()).find((c) => c.id === victim.id)!;
      summary.flood = {
        total,
        ackedAtKill,
        stalledRecovered: stalled.length,
        outcomes: Object.fromEntries(result.outcomes),
        victim: victim.name,
        victimAfter: `${after.state}, ${after.restarts} restarts`,
      };

      expect(ackedAtKill).toBeLessThan(total);
      expect(stalled.length).toBeGreaterThan(0); // the kill did interrupt jobs, and they were recovered
      expect(await queues.failed('embed')).toBe(0);
      const audit = await auditStore(redisUrl, config.EMBEDDING_DIM, config.KEY_PREFIX);
      expect(audit.problems).toEqual([]);
      for (const session of sessions) {
        const stored = audit.sessions.get(`${TENANT}/${session}`)!;
        expect(stored.turnIds.length).toBe(result.acknowledged.get(session)!.size);
        expect(new Set(stored.turnIds)).toEqual(result.acknowledged.get(session));
      }
    }),
    300_000,
  );

  it(
    'leaves no container, volume or network after down -v',
    withLogs(async () => {
      await closeQueueClients();
      await health.stop();
      await project.down();
      expect(await project.leftovers()).toEqual([]);
    }),
  );
});
