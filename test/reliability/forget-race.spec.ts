import { OpenAiWireServer } from '../support/openai-wire-server';
import { RedisServer } from '../support/redis-server';
import { QueueProbe } from './support/queue-probe';
import { DIM, type ReliabilityStack, startReliabilityStack, useReliabilityStack, TENANT } from './support/reliability-stack';
import { auditStore } from './support/store-audit';
import { waitUntil } from './support/wait-until';

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

/**
 * Issue 21 item 3: a DELETE while a chat on the session waits for its LLM. The reply, quoting the forgotten turn, was
 * stored after the DELETE had answered, and the session was listed again.
 */
describe('forgetting a session while a chat on it is in flight', () => {
  const redis = new RedisServer();
  const wire = new OpenAiWireServer({ dim: DIM, reply: (messages) => `You told me: ${messages.at(-1)!.content}` });
  let rs: ReliabilityStack;
  let probe: QueueProbe;

  beforeAll(async () => {
    await Promise.all([redis.start(), wire.start()]);
    // Extraction put off: the LLM's only request is the chat's.
    rs = await startReliabilityStack(redis, { LLM_PROVIDER: 'openai-compatible', OPENAI_BASE_URL: wire.baseURL, EXTRACT_QUIET_MS: '600000', EXTRACT_AFTER_TURNS: '1000' });
    probe = new QueueProbe(redis);
  }, 60_000);

  afterAll(async () => {
    await probe?.close();
    await rs?.stack.stop();
    await Promise.all([redis.stop(), wire.stop()]);
  });

  it('does not store the reply, nor list the session again, once the DELETE has answered', async () => {
    expect((await rs.call('POST', '/v1/sessions/chat-race/turns?wait=true', { role: 'user', content: 'my alarm code is 8812' })).status).toBe(200);
    wire.failNext(1, { kind: 'slow', delayMs: 2_000 });
    const asked = wire.requests.length;
    const chat = rs.call('POST', '/v1/sessions/chat-race/chat', { message: 'what is my alarm code?' });
    await waitUntil('the chat waits for the LLM', async () => wire.requests.length > asked, 10_000, () => rs.logs.tail());
    expect((await rs.call('DELETE', '/v1/sessions/chat-race')).status).toBe(200);
    const answered = await chat;
    expect(answered.status).toBe(200); // the client still gets its answer
    await probe.drained('embed', 10_000);
    const history = (await (await rs.call('GET', '/v1/sessions/chat-race/turns')).json()) as { total: number };
    const listed = (await (await rs.call('GET', '/v1/sessions')).json()) as { sessions: { sessionId: string }[] };
    expect([history.total, listed.sessions.map((s) => s.sessionId)]).toEqual([0, []]);
  });
});
