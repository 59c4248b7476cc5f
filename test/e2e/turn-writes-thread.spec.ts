import { loadConfig } from '@app/memory/config/load-config';
import { METRIC_NAMES } from '@app/memory/metrics/metric-names';
import { promSample } from '../../apps/cli/src/stress/prom-text';
import { type StackHandle, startStack } from '../../apps/cli/src/stack/stack';
import { RedisServer } from '../support/redis-server';

/**
 * REST turn writes run in the API's ingest thread (see IngestThread); what the main thread counts of them still shows
 * on the API's /metrics, with the same answers as before.
 */
describe('turn writes through the ingest thread, over HTTP', () => {
  const redis = new RedisServer();
  const apiKey = 'sk-turn-writes-0123456789';
  let stack: StackHandle;

  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${stack.apiUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${apiKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const metrics = async () => (await fetch(`${stack.apiUrl}/metrics`)).text();
  const count = (text: string, name: string, labels: Record<string, string>) => promSample(text, `${name}_count`, labels) ?? 0;

  beforeAll(async () => {
    await redis.start();
    stack = await startStack({ config: loadConfig({ LOG_LEVEL: 'warn', API_KEYS: `writes:${apiKey}` }), redisUrl: redis.url, log: () => undefined });
  }, 180_000);

  afterAll(async () => {
    await stack?.stop();
    await redis.stop();
  });

  it('answers 202, and 200 once searchable with ?wait=true; /metrics counts the writes', async () => {
    const before = await metrics();
    const queued = await call('POST', '/v1/sessions/counted/turns', { turns: [{ id: 't1', role: 'user', content: 'I keep bees on the roof.' }] });
    const waited = await call('POST', '/v1/sessions/counted/turns?wait=true', { id: 't2', role: 'user', content: 'The hives face south.' });
    expect([queued, waited]).toEqual([
      { status: 202, body: { turns: [{ turnId: 't1', seq: 1 }] } },
      { status: 200, body: { turns: [{ turnId: 't2', seq: 2 }] } },
    ]);
    const found = await call('GET', '/v1/sessions/counted/memories?q=hives');
    expect((found.body.memories as { content: string }[]).map((m) => m.content)).toContain('The hives face south.');

    const after = await metrics();
    const grew = (name: string, labels: Record<string, string>) => count(after, name, labels) - count(before, name, labels);
    expect([
      grew(METRIC_NAMES.operationDuration, { operation: 'write', endpoint: 'turns' }),
      grew(METRIC_NAMES.operationDuration, { operation: 'write', endpoint: 'turns_wait' }),
      grew(METRIC_NAMES.httpRequestDuration, { method: 'POST', route: '/v1/sessions/:sessionId/turns', status: '202' }),
      grew(METRIC_NAMES.httpRequestDuration, { method: 'POST', route: '/v1/sessions/:sessionId/turns', status: '200' }),
    ]).toEqual([1, 1, 1, 1]);
  });

  it('answers an error made in the thread as before: status, code and message', async () => {
    const bad = await call('POST', '/v1/sessions/counted/turns', { turns: [{ role: 'robot', content: 'beep' }] });
    expect(bad).toMatchObject({ status: 400, body: { code: 'invalid_input', message: ['turns.0.role must be equal to one of the allowed values'] } });
    const after = await metrics();
    expect(count(after, METRIC_NAMES.httpRequestDuration, { method: 'POST', route: '/v1/sessions/:sessionId/turns', status: '400' })).toBe(1);
  });
});
