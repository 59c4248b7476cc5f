import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { type LogSink, ManagedProcess } from './managed-process';
import { redisReachable } from './redis-reachable';
import { StackError } from './stack-error';
import { redisPersistenceArgs } from './redis-persistence';

export interface LocalRedisOptions {
  url: string;
  dir: string;
  /** AOF on (the stack's data survives restarts) or no persistence at all (benchmarks). */
  persist: boolean;
  log: LogSink;
}

/** Starts redis-server on this machine at the URL's port and waits until it answers. */
export async function startLocalRedis({ url, dir, persist, log }: LocalRedisOptions): Promise<ManagedProcess> {
  const { hostname, port } = new URL(url);
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(hostname)) {
    throw new StackError(`no Redis answers at ${url}, and a redis-server can only be started on this machine`);
  }
  mkdirSync(resolve(dir), { recursive: true });
  const args = ['--port', port || '6379', '--bind', '127.0.0.1', '--dir', resolve(dir), ...redisPersistenceArgs(persist)];
  const redis = new ManagedProcess('redis', 'redis-server', args, log);
  await redis.start().catch((err: Error) => {
    throw new StackError(`no Redis answers at ${url} and redis-server could not be started (${err.message})`);
  });
  for (let i = 0; i < 100 && redis.running; i++) {
    if (await redisReachable({ cluster: false, url })) return redis;
    await new Promise((r) => setTimeout(r, 100));
  }
  await redis.stop();
  throw new StackError(`redis-server did not answer at ${url}`);
}
