import { connect, type Socket } from 'node:net';
import { RedisServer } from '../support/redis-server';
import { metricValue, scrape } from './support/prometheus';
import { QueueProbe } from './support/queue-probe';
import { API_KEY, type ReliabilityStack, useReliabilityStack } from './support/reliability-stack';
import { waitUntil } from './support/wait-until';

const SOCKETS = 100;
const BODY_BYTES = 4 * 1024 * 1024;
/** The receive timeout the stack runs with: a request must have arrived whole within it. */
const BODY_TIMEOUT_MS = 1500;
/** The whole-request timeout the stack runs with, far below JOB_TIMEOUT_MS (15 s). */
const REQUEST_TIMEOUT_MS = 3000;

interface SlowClient {
  socket: Socket;
  /** Status line of the server's answer, if any arrived. */
  status?: number;
  /** When the server ended the connection, in ms after the start. */
  closedMs?: number;
}

/**
 * A client that announces a body of `BODY_BYTES`, sends all of it but the last byte and then waits, as a
 * slow-loris body does. The server must not keep such bodies in memory: unauthenticated ones are refused
 * from their headers alone, authenticated ones are cut off by the receive timeout.
 */
function slowClient(url: string, key: string, body: Buffer, started: number): SlowClient {
  const { hostname, port } = new URL(url);
  const client: SlowClient = { socket: connect(Number(port), hostname) };
  const head = [
    'POST /v1/sessions/slow/turns HTTP/1.1',
    `Host: ${hostname}:${port}`,
    `Authorization: Bearer ${key}`,
    'Content-Type: application/json',
    `Content-Length: ${BODY_BYTES}`,
    '',
    '',
  ].join('\r\n');
  let answer = '';
  client.socket.on('data', (chunk: Buffer) => {
    answer += chunk.toString('latin1');
    client.status ??= Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1]) || undefined;
  });
  client.socket.on('error', () => undefined); // EPIPE/ECONNRESET once the server has closed: expected
  client.socket.on('close', () => (client.closedMs = Date.now() - started));
  client.socket.write(head);
  client.socket.write(body);
  return client;
}

const rssMiB = async (rs: ReliabilityStack) => metricValue(await scrape(`${rs.stack.apiUrl}/metrics`), 'process_resident_memory_bytes') / 2 ** 20;

describe('slow bodies', () => {
  const redis = new RedisServer();
  let rs: ReliabilityStack;
  let probe: QueueProbe;
  const body = Buffer.alloc(BODY_BYTES - 1, 'x');
  // Failed logins are throttled per address (the other suite's subject): here every bad key is looked at.
  const env = { HTTP_BODY_TIMEOUT_MS: String(BODY_TIMEOUT_MS), HTTP_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS), AUTH_FAILURES_PER_MINUTE: '1000' };
  useReliabilityStack(redis, env, (stack, queues) => {
    rs = stack;
    probe = queues;
  });

  it(`answers ${SOCKETS} unauthenticated slow 4 MiB bodies with 401 from their headers and closes them, without buffering them`, async () => {
    const before = await rssMiB(rs);
    const started = Date.now();
    const clients = Array.from({ length: SOCKETS }, () => slowClient(rs.stack.apiUrl, 'sk-wrong-key-0123456789abcdef', body, started));
    try {
      // Every body has either reached the server's socket or been refused; then give the server a moment to close.
      await waitUntil('every body was sent or refused', async () => clients.every((c) => c.closedMs !== undefined || c.socket.writableLength === 0), 20_000);
      await waitUntil('the server closed every connection', async () => clients.every((c) => c.closedMs !== undefined), 10_000).catch(() => undefined);
      const during = await rssMiB(rs);
      const answered = clients.filter((c) => c.status !== undefined);
      const open = clients.filter((c) => c.closedMs === undefined).length;
      console.log(JSON.stringify({ test: 'slow-bodies-unauthenticated', sockets: SOCKETS, rssBeforeMiB: Math.round(before), rssDuringMiB: Math.round(during), open, answered: answered.length, statuses: [...new Set(answered.map((c) => c.status))], slowestCloseMs: open ? null : Math.max(...clients.map((c) => c.closedMs!)) }));
      expect(open).toBe(0);
      // A client still sending when the server closes may get a reset before it reads the 401: some go unread.
      expect(new Set(answered.map((c) => c.status))).toEqual(new Set([401]));
      expect(during - before).toBeLessThan(100);
    } finally {
      clients.forEach((c) => c.socket.destroy());
    }
  });

  it('cuts off an authenticated body that stops arriving once the receive timeout has passed', async () => {
    const started = Date.now();
    const clients = Array.from({ length: 10 }, () => slowClient(rs.stack.apiUrl, API_KEY, body, started));
    try {
      await waitUntil('the server closed every connection', async () => clients.every((c) => c.closedMs !== undefined), 3 * BODY_TIMEOUT_MS + 2000);
      const slowest = Math.max(...clients.map((c) => c.closedMs!));
      console.log(JSON.stringify({ test: 'slow-bodies-authenticated', sockets: clients.length, statuses: [...new Set(clients.map((c) => c.status))], slowestCloseMs: slowest }));
      // Past TENANT_MAX_BULK_WRITES (4) a tenant's further bodies of unknown length are refused before they are read (429).
      expect(clients.every((c) => c.status === undefined || c.status === 408 || c.status === 429)).toBe(true);
      expect(clients.filter((c) => c.status === 429).length).toBeLessThanOrEqual(clients.length - 4);
    } finally {
      clients.forEach((c) => c.socket.destroy());
    }
    const health = await fetch(`${rs.stack.apiUrl}/healthz`);
    expect(health.status).toBe(200);
  });

  it('answers 503 to a request still waiting past HTTP_REQUEST_TIMEOUT_MS (here for an embedder that never comes)', async () => {
    await probe.queues.embed.pause();
    try {
      const started = Date.now();
      const res = await rs.call('POST', '/v1/sessions/waiting/turns?wait=true', { role: 'user', content: 'no embedder takes this yet' });
      const ms = Date.now() - started;
      const text = await res.text();
      console.log(JSON.stringify({ test: 'request-timeout', status: res.status, ms, text }));
      expect([res.status, ms >= REQUEST_TIMEOUT_MS, ms < REQUEST_TIMEOUT_MS + 1000]).toEqual([503, true, true]);
    } finally {
      await probe.queues.embed.resume();
    }
    // The turn was accepted before the timeout: it is stored once the queue moves again.
    await waitUntil('the turn is stored', async () => ((await (await rs.call('GET', '/v1/sessions/waiting/turns')).json()) as { total: number }).total === 1, 10_000);
  });
});
