import { loadConfig } from '@app/memory/config/load-config';
import { type StackHandle, startStack } from '../../../apps/cli/src/stack/stack';
import { type RedisTarget, type TestRedis, targetEnv } from '../../support/test-redis';
import { QueueProbe } from './queue-probe';
import { StackLogs } from './stack-logs';

/** The tenant and key every reliability test writes with; a second tenant for the rate-limit test. */
export const TENANT = 'rel';
export const API_KEY = 'sk-reliability-0123456789abcdef';
export const OTHER_KEY = 'sk-reliability-other-0123456789';
/** Small vectors keep the floods cheap; the store audit checks this length. */
export const DIM = 64;

export interface ReliabilityStack {
  stack: StackHandle;
  logs: StackLogs;
  /** POSTs/GETs with the test key. */
  call(method: string, path: string, body?: unknown, key?: string): Promise<Response>;
}

/** startStack on a private Redis (or cluster) with the reliability defaults, overridden by `env`. */
export async function startReliabilityStack(
  redis: RedisTarget,
  env: Record<string, string> = {},
  replicas: { embedders?: number; retrievers?: number } = {},
): Promise<ReliabilityStack> {
  const logs = new StackLogs();
  const config = loadConfig({ LOG_LEVEL: 'warn', API_KEYS: `${TENANT}:${API_KEY},other:${OTHER_KEY}`, EMBEDDING_DIM: String(DIM), ...targetEnv(redis), ...env });
  const stack = await startStack({ config, log: logs.sink, ...replicas });
  const call = (method: string, path: string, body?: unknown, key = API_KEY) =>
    fetch(`${stack.apiUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(20_000),
    });
  return { stack, logs, call };
}

/**
 * The usual suite set-up: start `redis`, a reliability stack on it (with `env`) and a queue probe before the
 * suite, hand them to `ready`, and stop them all after it.
 */
export function useReliabilityStack(redis: TestRedis, env: Record<string, string>, ready: (rs: ReliabilityStack, probe: QueueProbe) => void): void {
  let rs: ReliabilityStack | undefined;
  let probe: QueueProbe | undefined;
  beforeAll(async () => {
    await redis.start();
    rs = await startReliabilityStack(redis, env);
    probe = new QueueProbe(redis);
    ready(rs, probe);
  }, 60_000);
  afterAll(async () => {
    await probe?.close();
    await rs?.stack.stop();
    await redis.stop();
  });
}
