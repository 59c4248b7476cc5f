import { randomBytes } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { MemoryConfig } from '@app/memory/config/memory-config';
import { parseApiKeys } from '@app/memory/store/api-key-store';
import { ApiClient } from '../http/api-client';
import { freePort } from './free-port';
import { startLocalRedis } from './local-redis';
import { type LogSink, ManagedProcess } from './managed-process';
import { redisReachable } from './redis-reachable';
import { StackError } from './stack-error';

export interface StackOptions {
  /** The validated environment; every child gets it, plus its own ports. */
  config: MemoryConfig;
  embedders?: number;
  retrievers?: number;
  /** API port; 0 picks a free one. */
  port?: number;
  host?: string;
  /** Overrides config.REDIS_URL. */
  redisUrl?: string;
  /** Where a redis-server started by the stack keeps its data (default ./.data). */
  dataDir?: string;
  /** AOF on for a redis-server started here (default), or no persistence at all. */
  persist?: boolean;
  /** Empty dataDir first; refused when a Redis the stack did not start already answers at the URL. */
  fresh?: boolean;
  /** /metrics ports of replica 1 of each worker (replica i gets port + i - 1); free ports when omitted. */
  metricsPorts?: Partial<Record<WorkerApp, number>>;
  log?: LogSink;
  readyTimeoutMs?: number;
  /** Aborting it while the stack starts stops what was started, and startStack rejects. */
  signal?: AbortSignal;
}

export const WORKER_APPS = ['embedder', 'retriever'] as const;
export type WorkerApp = (typeof WORKER_APPS)[number];

export interface StackHandle {
  apiUrl: string;
  /** A key the API accepts: the first of API_KEYS, or one made up for this run; undefined when AUTH_MODE=none. */
  apiKey?: string;
  redisUrl: string;
  /** Where the redis-server started by the stack keeps its data; undefined when it found a Redis running. */
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
const toEnv = (config: MemoryConfig, extra: Record<string, string | number>): Record<string, string> =>
  Object.fromEntries(
    Object.entries({ ...config, ...extra })
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => [k, String(v)]),
  );

/** With AUTH_MODE=apikey and no API_KEYS, the local stack makes up a key for the default tenant, for this run only. */
function apiKeys(config: MemoryConfig): { key?: string; env: Record<string, string> } {
  if (config.AUTH_MODE === 'none') return { env: {} };
  const [configured] = parseApiKeys(config.API_KEYS);
  if (configured) return { key: configured.key, env: {} };
  const key = `local-${randomBytes(24).toString('base64url')}`;
  return { key, env: { API_KEYS: `${config.DEFAULT_TENANT}:${key}` } };
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
 * Starts the local stack: redis-server when none answers at the URL (and the binary exists), the API,
 * and N embedder and N retriever processes from dist/. Resolves once /readyz answers 200.
 */
export async function startStack(options: StackOptions): Promise<StackHandle> {
  const { config, embedders = 1, retrievers = 1, host = '127.0.0.1', log = prefixedLog(), readyTimeoutMs = 180_000, signal, persist = true } = options;
  const root = repoRoot();
  const dataDir = options.dataDir ?? join(root, '.data');
  const redisUrl = options.redisUrl ?? config.REDIS_URL;
  const processes: ManagedProcess[] = [];
  const killAll = () => processes.forEach((p) => p.kill());
  process.once('exit', killAll); // never leave children behind, even on a crash

  let redis: ManagedProcess | undefined;
  const stop = async () => {
    process.removeListener('exit', killAll);
    for (const p of processes.filter((p) => p !== redis)) await p.stop();
    await redis?.stop(); // last: the workers may still be acknowledging jobs
  };

  try {
    if (!(await redisReachable(redisUrl))) {
      if (options.fresh) rmSync(dataDir, { recursive: true, force: true });
      redis = await startLocalRedis({ url: redisUrl, dir: dataDir, persist, log });
      processes.push(redis);
    } else if (options.fresh) {
      throw new StackError(`a Redis already answers at ${redisUrl} and was not started here: --fresh empties only the stack's own (stop that Redis, or choose another --redis-url)`);
    }
    const port = options.port || (await freePort());
    const node = (app: string) => join(root, 'dist', 'apps', app, 'src', 'main.js');
    for (const app of ['api', 'embedder', 'retriever']) {
      if (!existsSync(node(app))) throw new StackError(`${node(app)} is missing: run \`npm run build\` first`);
    }
    const auth = apiKeys(config);
    const env = (extra: Record<string, string | number>) => toEnv(config, { REDIS_URL: redisUrl, ...auth.env, ...extra });
    const workerMetrics: Record<string, string> = {};
    const specs: [string, string, Record<string, string | number>][] = [['api', 'api', { API_PORT: port, API_HOST: host }]];
    for (const [app, n] of [['embedder', embedders], ['retriever', retrievers]] as const) {
      for (let i = 1; i <= n; i++) {
        const pinned = options.metricsPorts?.[app];
        const metricsPort = pinned ? pinned + i - 1 : await freePort();
        workerMetrics[`${app}-${i}`] = `http://127.0.0.1:${metricsPort}/metrics`;
        specs.push([`${app}-${i}`, app, { METRICS_PORT: metricsPort, METRICS_HOST: host }]);
      }
    }
    for (const [name, app, extra] of specs) {
      signal?.throwIfAborted();
      const p = new ManagedProcess(name, process.execPath, [node(app)], log, env(extra));
      processes.push(p);
      await p.start();
    }
    const apiUrl = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;
    await waitReady(new ApiClient({ url: apiUrl, apiKey: auth.key }), Object.values(workerMetrics), processes, readyTimeoutMs, signal);
    return { apiUrl, apiKey: auth.key, redisUrl, dataDir: redis && dataDir, persist, workerMetrics, stop };
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
    const dead = processes.find((p) => !p.running);
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
