import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AgentMemoryClient, AgentMemoryConnectionError, AgentMemoryError, AgentMemoryTimeoutError } from '../../libs/client/src';
import { freePort } from '../support/redis-server';

/** A real HTTP server answering each request with the next scripted answer (or never, for `hang`). */
class ScriptedServer {
  readonly arrivals: number[] = [];
  private readonly server: Server;
  constructor(private readonly answers: ({ status: number; headers?: Record<string, string>; body?: unknown } | 'hang')[]) {
    this.server = createServer((req: IncomingMessage, res: ServerResponse) => {
      this.arrivals.push(Date.now());
      const answer = this.answers.shift() ?? { status: 200, body: { status: 'ok' } };
      if (answer === 'hang') return;
      res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
      res.end(JSON.stringify(answer.body ?? {}));
    });
  }
  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

describe('AgentMemoryClient retries, timeouts, aborts and errors (real HTTP)', () => {
  const servers: ScriptedServer[] = [];
  const serve = async (...answers: ConstructorParameters<typeof ScriptedServer>[0]) => {
    const server = new ScriptedServer(answers);
    servers.push(server);
    return { server, client: new AgentMemoryClient({ baseUrl: await server.start(), apiKey: 'k', timeoutMs: 10_000 }) };
  };
  afterEach(async () => Promise.all(servers.splice(0).map((s) => s.stop())));

  it('sends again after the Retry-After of a 429, then answers', async () => {
    const { server, client } = await serve({ status: 429, headers: { 'retry-after': '1' }, body: { statusCode: 429, message: 'slow down' } });
    expect(await client.health()).toEqual({ status: 'ok' });
    expect(server.arrivals).toHaveLength(2);
    expect(server.arrivals[1] - server.arrivals[0]).toBeGreaterThanOrEqual(950);
  });

  it('gives up on 503 after maxRetries with a typed error carrying the status as its code, and the Retry-After', async () => {
    const busy = { status: 503, headers: { 'retry-after': '0' }, body: { statusCode: 503, error: 'Service Unavailable', message: 'Redis is unavailable' } };
    const { server, client } = await serve(busy, busy, busy);
    const err = await client.health({ maxRetries: 2 }).catch((e: unknown) => e);
    expect(server.arrivals).toHaveLength(3);
    expect(err).toBeInstanceOf(AgentMemoryError);
    expect(err).toMatchObject({ status: 503, code: '503', retryAfterMs: 0, retryable: true, message: 'HTTP 503: Redis is unavailable' });
  });

  it("reads the body's code when the API sends one, and does not retry a 4xx", async () => {
    const { server, client } = await serve({ status: 404, body: { statusCode: 404, error: 'Not Found', code: 'session_not_found', message: ['no such', 'session'] } });
    const err = (await client.forgetSession('s').catch((e: unknown) => e)) as AgentMemoryError;
    expect([err.status, err.code, err.message, err.retryable]).toEqual([404, 'session_not_found', 'HTTP 404: no such; session', false]);
    expect(server.arrivals).toHaveLength(1);
  });

  it('answers the 429 at once when its Retry-After is past the timeout', async () => {
    const { server, client } = await serve({ status: 429, headers: { 'retry-after': '60' }, body: { statusCode: 429, message: 'later' } });
    const err = await client.health({ timeoutMs: 2000 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 429, retryAfterMs: 60_000 });
    expect(server.arrivals).toHaveLength(1);
  });

  it('times out a call that gets no answer, and stops one whose signal aborts', async () => {
    const { client } = await serve('hang', 'hang');
    expect(await client.health({ timeoutMs: 300 }).catch((e: unknown) => e)).toBeInstanceOf(AgentMemoryTimeoutError);
    const aborted = new AbortController();
    setTimeout(() => aborted.abort(), 100);
    const err = await client.health({ signal: aborted.signal }).catch((e: unknown) => e);
    expect((err as Error).name).toBe('AbortError');
  });

  it('names the URL it could not reach after retrying', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const err = await new AgentMemoryClient({ baseUrl: url, maxRetries: 1 }).health().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AgentMemoryConnectionError);
    expect((err as Error).message).toBe(`cannot reach the API at ${url}/healthz (ECONNREFUSED)`);
  });
});
