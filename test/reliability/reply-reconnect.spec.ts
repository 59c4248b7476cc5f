import Redis from 'ioredis';
import { KeySchema } from '@app/memory/redis/key-schema';
import { RedisServer } from '../support/redis-server';
import type { QueueProbe } from './support/queue-probe';
import { type ReliabilityStack, TENANT, useReliabilityStack } from './support/reliability-stack';
import { waitUntil } from './support/wait-until';

/**
 * A job that finishes while the API's reply channel is down sends its reply to nobody. The API's subscriptions are
 * killed (CLIENT KILL TYPE pubsub) and kept from reconnecting (maxclients: connections already open stay) while a
 * waited write's job runs; once they are back, the write is answered from the job's state, not by the job timeout.
 */
describe('job replies across a reconnect of the reply channel', () => {
  const redis = new RedisServer();
  let rs: ReliabilityStack;
  let probe: QueueProbe;
  // Within the test's request timeout: a wait that ends in it answers 504.
  useReliabilityStack(redis, { JOB_TIMEOUT_MS: '19000' }, (s, p) => ([rs, probe] = [s, p]));

  it('answers a waited write whose reply was sent while the channel reconnected: 200, not the job timeout', async () => {
    const write = (session: string, id: string) =>
      rs.call('POST', `/v1/sessions/${session}/turns?wait=true`, { role: 'user', content: `turn ${id} about the red kite`, id });
    expect((await write('warm', 'w-1')).status).toBe(200);

    const admin = new Redis(redis.url);
    const maxclients = ((await admin.config('GET', 'maxclients')) as string[])[1];
    try {
      await admin.config('SET', 'maxclients', '1');
      expect(Number(await admin.client('KILL', 'TYPE', 'pubsub'))).toBeGreaterThan(0);
      const answer = write('lost', 'l-1');
      // The job ran (its turn has its vector) and is gone: its reply was published to no subscriber.
      const turn = new KeySchema().turn(TENANT, 'lost', 1);
      await waitUntil('the turn is embedded', async () => (await admin.hexists(turn, 'embedding')) === 1, 30_000);
      await probe.drained('embed', 30_000);
      expect(await admin.pubsub('CHANNELS', '*:replies:*')).toEqual([]);
      await admin.config('SET', 'maxclients', maxclients);
      const res = await answer;
      expect([res.status, await res.json()]).toEqual([200, { turns: [{ turnId: 'l-1', seq: 1 }] }]);
    } finally {
      await admin.config('SET', 'maxclients', maxclients);
      admin.disconnect();
    }
  }, 90_000);
});
