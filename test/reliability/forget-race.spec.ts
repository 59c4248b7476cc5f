import { RedisServer } from '../support/redis-server';
import { QueueProbe } from './support/queue-probe';
import { DIM, type ReliabilityStack, useReliabilityStack, TENANT } from './support/reliability-stack';
import { auditStore } from './support/store-audit';

/**
 * DELETE of a session whose acknowledged turns are still queued (the embed queue is paused from the test to
 * make the race certain): the session must stay forgotten, and later writes must not collide with old ones.
 */
describe('forgetting a session while its turns are queued', () => {
  const redis = new RedisServer();
  let rs: ReliabilityStack;
  let probe: QueueProbe;

  useReliabilityStack(redis, {}, (stack, queues) => {
    rs = stack;
    probe = queues;
  });

  const turns = (prefix: string) => ({ turns: Array.from({ length: 10 }, (_, i) => ({ role: 'user', content: `${prefix} secret ${i}`, id: `${prefix}-${i}` })) });
  const history = async () => (await (await rs.call('GET', '/v1/sessions/forget-race/turns?limit=100')).json()) as { total: number; turns: { content: string }[] };

  it('keeps a session forgotten when turns accepted before the DELETE are embedded after it', async () => {
    await probe.queues.embed.pause();
    try {
      expect((await rs.call('POST', '/v1/sessions/forget-race/turns', turns('before'))).status).toBe(202);
      // 404 today ("no stored turns"): none is embedded yet. Either way the client asked to forget them.
      expect([200, 404]).toContain((await rs.call('DELETE', '/v1/sessions/forget-race')).status);
    } finally {
      await probe.queues.embed.resume();
    }
    await probe.drained('embed', 10_000);
    expect((await history()).turns.map((t) => t.content)).toEqual([]);
  });

  it('stores later turns of the same session without overwriting or orphaning any (store audit clean)', async () => {
    expect((await rs.call('POST', '/v1/sessions/forget-race/turns?wait=true', turns('after'))).status).toBe(200);
    const audit = await auditStore(redis.url, DIM);
    expect(audit.problems).toEqual([]);
    expect(audit.sessions.get(`${TENANT}/forget-race`)!.turnIds.filter((id) => id.startsWith('after'))).toHaveLength(10);
  });
});
