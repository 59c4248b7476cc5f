import { KeySchema } from '@app/memory/redis/key-schema';
import { RedisServer } from '../support/redis-server';
import { QueueProbe } from './support/queue-probe';
import { type ReliabilityStack, TENANT, useReliabilityStack } from './support/reliability-stack';

const MAX_QUEUED = 100;

/**
 * Issue 21 item 7: one MCP request stored 47,000 turns against TENANT_MAX_QUEUED 20,000 (the bound was a sample taken
 * every 250 ms), and every call of it failed although turns were accepted, counted, and left without a job. The bound
 * is now exact (an atomic reserve with the accept), and a request whose jobs cannot be enqueued accepts nothing.
 */
describe("a tenant's queued turns", () => {
  const redis = new RedisServer();
  const keys = new KeySchema();
  let rs: ReliabilityStack;
  let probe: QueueProbe;

  useReliabilityStack(redis, { TENANT_MAX_QUEUED: String(MAX_QUEUED) }, (stack, queues) => {
    rs = stack;
    probe = queues;
  });

  const batch = (prefix: string, n: number) => ({ turns: Array.from({ length: n }, (_, i) => ({ role: 'user', content: `${prefix} turn ${i}`, id: `${prefix}-${i}` })) });
  const queued = async () => {
    const client = redis.client();
    try {
      return Number((await client.get(keys.queued(TENANT))) ?? 0);
    } finally {
      client.disconnect();
    }
  };

  it('never pass TENANT_MAX_QUEUED, however many requests arrive at once', async () => {
    await probe.queues.embed.pause();
    let statuses: number[];
    try {
      statuses = (await Promise.all(Array.from({ length: 20 }, (_, i) => rs.call('POST', `/v1/sessions/bound-${i}/turns`, batch(`b${i}`, 10))))).map((r) => r.status);
      expect(await queued()).toBe(MAX_QUEUED);
    } finally {
      await probe.queues.embed.resume();
    }
    expect(statuses.filter((s) => s === 202)).toHaveLength(MAX_QUEUED / 10);
    expect(statuses.filter((s) => s === 429)).toHaveLength(20 - MAX_QUEUED / 10);
    await probe.drained('embed', 20_000);
    expect(await queued()).toBe(0);
  });

  it('accepts nothing, and counts nothing, when its jobs cannot be enqueued', async () => {
    const client = redis.client();
    const events = probe.queues.embed.keys.events;
    try {
      // Every job add now fails half-way (its XADD of the 'waiting' event: WRONGTYPE); the accept before it does not.
      await client.set(events, 'not a stream');
      const failed = await rs.call('POST', '/v1/sessions/half-done/turns', batch('h', 5));
      await client.del(events);
      expect(failed.status).toBeGreaterThanOrEqual(500);
      await probe.drained('embed', 10_000);
      expect([await queued(), await client.hlen(keys.pending(TENANT, 'half-done'))]).toEqual([0, 0]);
      // The client's resend, as the idempotency contract allows, stores every turn once.
      const again = await rs.call('POST', '/v1/sessions/half-done/turns?wait=true', batch('h', 5));
      expect(again.status).toBe(200);
      const history = (await (await rs.call('GET', '/v1/sessions/half-done/turns')).json()) as { turns: { turnId: string }[] };
      expect(history.turns.map((t) => t.turnId)).toEqual(batch('h', 5).turns.map((t) => t.id));
    } finally {
      client.disconnect();
    }
  });
});
