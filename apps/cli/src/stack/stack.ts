import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { extractionEnabled, type MemoryConfig } from '@app/memory/config/memory-config';
import { describeEndpoint, redisEndpoint } from '@app/memory/redis/redis-endpoint';
import { parseApiKeys } from '@app/memory/store/api-key-store';
import { ApiClient } from '../http/api-client';
import { freePort } from './free-port';
import { type LocalCluster, startLocalCluster } from './local-cluster';
import { startLocalRedis } from './local-redis';
import { type LogSink, ManagedProcess } from './managed-process';
import { redisReachable } from './redis-reachable';
import { StackError } from './stack-error';

export interface StackOptions {
  /** The validated environment; every child gets it, plus its own ports. */
  config: MemoryConfig;
  embedders?: number;
  retrievers?: number;
  /** Default 1 when extraction is on (a real LLM_PROVIDER), else 0: with the offline responder nothing is extracted. */
  extractors?: number;
  /** API port; 0 picks a free one. */
  port?: number;
  host?: string;
  /** Overrides config.REDIS_URL, and names one server even when REDIS_CLUSTER_NODES is set. */
  redisUrl?: string;
  /** Starts a throwaway Redis Cluster of this many masters (no replicas, no persistence) for the run instead. */
  clusterMasters?: number;
  /** Where a redis-server started by the stack keeps its data (default ./.data). */
  dataDir?: string;
  /** AOF on for a redis-server started here (default), or no persistence at all. */
  persist?: boolean;
  /** Empty dataDir first; refused when a Redis the stack did not start already answers at the URL. */
  fresh?: boolean;
  /** /metrics ports of replica 1 of each worker (replica i gets port + i - 1); free ports when omitted. */
  metricsPorts?: Partial<Record<WorkerApp, number>>;
  log?: LogSink;
  /** Node options for the children, per app (e.g. --cpu-prof for a benchmark's profile). */
  nodeArgs?: Partial<Record<'api' | WorkerApp, string[]>>;
  readyTimeoutMs?: number;
  /** Aborting it while the stack starts stops what was started, and startStack rejects. */
  signal?: AbortSignal;
}

export const WORKER_APPS = ['embedder', 'retriever', 'extractor'] as const;
export type WorkerApp = (typeof WORKER_APPS)[number];

export interface StackHandle {
  apiUrl: string;
  /** A key the API accepts: the first of API_KEYS, or one made up for this run; undefined when AUTH_MODE=none. */
  apiKey?: string;
  /** Whether the key was made up for this run (API_KEYS not set): the API then counts it as its one API_KEYS key. */
  apiKeyMadeUp: boolean;
  /** The Redis URL, or `cluster` and the seed nodes. */
  redisUrl: string;
  /** Where the redis-server (or cluster) started by the stack keeps its data; undefined when it found a Redis running. */
  dataDir?: string;
  /** Whether that redis-server persists (AOF). */
  persist: boolean;
  /** Name -> URL of each worker's /metrics. */
  workerMetrics: Record<string, string>;
  /** Stops the API, then the workers (each finishes its jobs), then the redis-server it started. */
  stop(): Promise<void>;
}

/** The repository root: the nearest folder above with a package.json (works from src and from dist). */
export function repoRoot(from = __dirname): string {
  let dir = from;
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new StackError(`no package.json above ${from}`);
    dir = up;
  }
  return dir;
}

/** The config as the environment of a child: every variable that has a value. */
export const toEnv = (config: MemoryConfig, extra: Record<string, string | number>): Record<string, string> =>
  Object.fromEntries(
    Object.entries({ ...config, ...extra })
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => [k, String(v)]),
  );

/** With AUTH_MODE=apikey and no API_KEYS, the local stack makes up a key for the default tenant, for this run only. */
function apiKeys(config: MemoryConfig): { key?: string; madeUp: boolean; env: Record<string, string> } {
  if (config.AUTH_MODE === 'none') return { madeUp: false, env: {} };
  const [configured] = parseApiKeys(config.API_KEYS);
  if (configured) return { key: configured.key, madeUp: false, env: {} };
  const key = `local-${randomBytes(24).toString('base64url')}`;
  return { key, madeUp: true, env: { API_KEYS: `${config.DEFAULT_TENANT}:${key}` } };
}

const COLOURS = [36, 33, 35, 32, 34, 91, 92, 93, 94, 95, 96];

/** Prints each line prefixed with its process name, coloured on a terminal. */
export function prefixedLog(stream: NodeJS.WriteStream = process.stdout): LogSink {
  const colour = new Map<string, number>();
  return (name, line) => {
    if (!colour.has(name)) colour.set(name, COLOURS[colour.size % COLOURS.length]);
    const tag = stream.isTTY ? `\x1b[${colour.get(name)}m[${name}]\x1b[0m` : `[${name}]`;
    stream.write(`${tag} ${line}\n`);
  };
}

/**
 * Starts the local stack: redis-server when none answers at the URL (and the binary exists) or a local cluster
 * when asked, the API, and N embedder, retriever and extractor processes from dist/. With REDIS_CLUSTER_NODES every
 * process uses that cluster, which must answer. Resolves once /readyz answers 200.
 */
export async function startStack(options: StackOptions): Promise<StackHandle> {
  const { config, embedders = 1, retrievers = 1, extractors = extractionEnabled(config) ? 1 : 0, host = '127.0.0.1', log = prefixedLog(), readyTimeoutMs = 180_000, signal, persist = true } = options;
  const root = repoRoot();
  const dataDir = options.dataDir ?? join(root, '.data');
  let endpoint = redisEndpoint(config, options.redisUrl);
  let clusterNodes = endpoint.cluster ? config.REDIS_CLUSTER_NODES : '';
  const processes: ManagedProcess[] = [];
  let cluster: { nodes: LocalCluster; dir: string } | undefined;
  const killAll = () => [...processes, ...(cluster?.nodes.nodes.map((n) => n.process) ?? [])].forEach((p) => p.kill());
  process.once('exit', killAll); // never leave children behind, even on a crash

  let redis: ManagedProcess | undefined;
  const stop = async () => {
    for (const p of processes.filter((p) => p !== redis)) await p.stop();
    // Last: the workers may still be acknowledging jobs.
    await redis?.stop();
    await cluster?.nodes.stop();
    if (cluster) rmSync(cluster.dir, { recursive: true, force: true });
    // Only now: a launcher that exits halfway through stopping still kills the children left.
    process.removeListener('exit', killAll);
  };

  try {
    if (options.clusterMasters) {
      const dir = mkdtempSync(join(tmpdir(), 'agent-memory-cluster-'));
      cluster = { dir, nodes: await startLocalCluster({ masters: options.clusterMasters, replicas: 0, dir, log }) };
      clusterNodes = cluster.nodes.seedNodes;
      endpoint = redisEndpoint({ ...config, REDIS_CLUSTER_NODES: clusterNodes });
    } else if (!(await redisReachable(endpoint))) {
      if (endpoint.cluster) throw new StackError(`no healthy Redis Cluster answers at ${describeEndpoint(endpoint)}`);
      if (options.fresh) rmSync(dataDir, { recursive: true, force: true });
      redis = await startLocalRedis({ url: endpoint.url, dir: dataDir, persist, log });
      processes.push(redis);
    } else if (options.fresh) {
      throw new StackError(`a Redis already answers at ${describeEndpoint(endpoint)} and was not started here: --fresh empties only the stack's own (stop that Redis, or choose another --redis-url)`);
    }
    const port = options.port || (await freePort());
    const node = (app: string) => join(root, 'dist', 'apps', app, 'src', 'main.js');
    for (const app of ['api', ...WORKER_APPS]) {
      if (!existsSync(node(app))) throw new StackError(`${node(app)} is missing: run \`npm run build\` first`);
    }
    const auth = apiKeys(config);
    const redisEnv: Record<string, string> = endpoint.cluster ? { REDIS_CLUSTER_NODES: clusterNodes ?? '' } : { REDIS_URL: endpoint.url, REDIS_CLUSTER_NODES: '' };
    const env = (extra: Record<string, string | number>) => toEnv(config, { ...redisEnv, ...auth.env, ...extra });
    const workerMetrics: Record<string, string> = {};
    const specs: [string, string, Record<string, string | number>][] = [['api', 'api', { API_PORT: port, API_HOST: host }]];
    for (const [app, n] of [['embedder', embedders], ['retriever', retrievers], ['extractor', extractors]] as const) {
      for (let i = 1; i <= n; i++) {
        const pinned = options.metricsPorts?.[app];
        const metricsPort = pinned ? pinned + i - 1 : await freePort();
        workerMetrics[`${app}-${i}`] = `http://127.0.0.1:${metricsPort}/metrics`;
        specs.push([`${app}-${i}`, app, { METRICS_PORT: metricsPort, METRICS_HOST: host }]);
      }
    }
    for (const [name, app, extra] of specs) {
      signal?.throwIfAborted();
      const p = new ManagedProcess(name, process.execPath, [...(options.nodeArgs?.[app as 'api' | WorkerApp] ?? []), node(app)], log, env(extra));
      // A worker that dies is started again, as compose does (the API is not: its port is the stack's address).
      if (app !== 'api') p.keepAlive();
      processes.push(p);
      await p.start();
    }
    const apiUrl = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;
    await waitReady(new ApiClient({ url: apiUrl, apiKey: auth.key }), Object.values(workerMetrics), processes, readyTimeoutMs, signal);
    return { apiUrl, apiKey: auth.key, apiKeyMadeUp: auth.madeUp, redisUrl: describeEndpoint(endpoint), dataDir: redis ? dataDir : cluster?.dir, persist: redis !== undefined && persist, workerMetrics, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Ready when the API's /readyz and every worker's /healthz answer 200 (a worker takes jobs before it listens). */
async function waitReady(api: ApiClient, workerMetrics: string[], processes: ManagedProcess[], timeoutMs: number, signal?: AbortSignal): Promise<void> {
  const answers = (url: string) =>
    fetch(url)
      .then((res) => res.arrayBuffer().then(() => res.ok))
      .catch(() => false);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    signal?.throwIfAborted();
    const dead = processes.find((p) => p.down);
    if (dead) {
      const said = dead.lastLines().map((l) => `  ${l}`).join('\n');
      throw new StackError(`${dead.name} exited with ${await dead.exited} before the stack was ready${said ? `; its last lines:\n${said}` : ''}`);
    }
    const workers = await Promise.all(workerMetrics.map((url) => answers(url.replace(/\/metrics$/, '/healthz'))));
    if (workers.every(Boolean) && (await api.ready())) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new StackError(`${api.url}/readyz and the workers' /healthz did not all answer 200 within ${timeoutMs} ms`);
}
