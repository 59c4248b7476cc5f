import { connect, type Socket } from 'node:net';
import { loadConfig } from '@app/memory/config/load-config';
import { freePort } from '../../apps/cli/src/stack/free-port';
import { ManagedProcess } from '../../apps/cli/src/stack/managed-process';
import { toEnv } from '../../apps/cli/src/stack/stack';
import { RedisServer } from '../support/redis-server';
import { waitUntil } from '../reliability/support/wait-until';

const API_KEY = 'sk-api-shutdown-0123456789abcdef';

/** Whether a new connection to the port is refused (the API has stopped listening: its HTTP server is closing). */
const refused = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(false)));
    s.once('error', () => resolve(true));
  });

/**
 * SIGTERM with a write in flight: the API stops listening, answers what it is reading, and answers a request that comes
 * after on the same connection with its own 503 (code and reason, Retry-After), not Fastify's bare one.
 */
describe('API shutdown with a request in flight', () => {
  const redis = new RedisServer();
  let api: ManagedProcess;
  let port: number;

  beforeAll(async () => {
    await redis.start();
    const config = loadConfig({ LOG_LEVEL: 'warn', API_KEYS: `down:${API_KEY}`, REDIS_URL: redis.url });
    port = await freePort();
    api = new ManagedProcess('api', process.execPath, ['dist/apps/api/src/main.js'], () => undefined, toEnv(config, { API_PORT: port, API_HOST: '127.0.0.1' }));
    await api.start();
    // Listening (no workers here: a write that does not wait needs none).
    await waitUntil('the API listens', async () => !(await refused(port)), 60_000, () => api.lastLines().join('\n'));
  }, 90_000);

  afterAll(async () => {
    api?.kill();
    await redis.stop();
  });

  it('answers the write it was reading, and a request after it on the connection with a 503 that says why', async () => {
    const body = JSON.stringify({ id: 'd-1', role: 'user', content: 'The boat leaves at dawn.' });
    const head = (path: string, length: number, extra = '') =>
      `POST ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${API_KEY}\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n${extra}\r\n`;
    const socket: Socket = connect(port, '127.0.0.1');
    let received = '';
    socket.on('data', (d) => (received += d.toString()));
    const closed = new Promise((resolve) => socket.once('close', resolve));
    await new Promise((resolve) => socket.once('connect', resolve));
    // Half the body: the write is in flight while the API is told to stop. Node sends 100 Continue as it hands the
    // request to Fastify, so it has been let in before the server closes.
    socket.write(head('/v1/sessions/down/turns', Buffer.byteLength(body), 'Expect: 100-continue\r\n') + body.slice(0, 10));
    await waitUntil('the API has the request', async () => received.includes('100 Continue'), 10_000);
    const stopped = api.stop();
    await waitUntil('the API stops listening', () => refused(port), 30_000);
    const second = JSON.stringify({ id: 'd-2', role: 'user', content: 'late' });
    socket.write(body.slice(10) + head('/v1/sessions/down/turns', Buffer.byteLength(second)) + second);
    await closed;
    await stopped;
    const answers = received
      .split(/(?=HTTP\/1\.1 )/)
      .filter((a) => !a.startsWith('HTTP/1.1 100 '))
      .map((a) => ({ status: a.split(' ')[1], body: a.slice(a.indexOf('\r\n\r\n') + 4) }));
    expect(answers.map((a) => a.status)).toEqual(['202', '503']);
    expect(JSON.parse(answers[0].body)).toEqual({ turns: [{ turnId: 'd-1', seq: 1 }] });
    expect(JSON.parse(answers[1].body)).toMatchObject({ statusCode: 503, code: 'unavailable', message: expect.stringMatching(/shutting down/) });
    expect(received).toMatch(/retry-after: \d+/i);
  }, 90_000);
});
