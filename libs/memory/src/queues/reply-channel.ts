import type { RedisClient } from '../redis/create-redis';
import type { KeySchema } from '../redis/key-schema';

/**
 * How a retrieve job's result reaches the API: a key that the API reads once and deletes, and that expires on its
 * own if nobody does. Results hold memory contents, so they are kept neither in the job nor in the events stream.
 */
export class ReplyChannel {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: KeySchema,
  ) {}

  async put(jobId: string, value: unknown, ttlMs: number): Promise<void> {
    await this.redis.set(this.keys.reply(jobId), JSON.stringify(value), 'PX', ttlMs);
  }

  /** The result, or undefined when it was never written or has expired. */
  async take<T>(jobId: string): Promise<T | undefined> {
    const reply = await this.redis.getdel(this.keys.reply(jobId));
    return reply === null ? undefined : (JSON.parse(reply) as T);
  }
}
