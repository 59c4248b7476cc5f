import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, createWriteStream, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { Command } from 'commander';
import Redis from 'ioredis';
import { loadConfig } from '@app/memory/config/load-config';
import type { MemoryConfig } from '@app/memory/config/memory-config';
import { countTokens } from '@app/memory/context/tokenizer';
import { percentiles } from '@app/memory/metrics/quantiles';
import { KeySchema } from '@app/memory/redis/key-schema';
import { ApiClient } from '../apps/cli/src/http/api-client';
import { describeMachine, machine } from '../apps/cli/src/report/machine';
import { ManagedProcess } from '../apps/cli/src/stack/managed-process';
import { repoRoot, type StackHandle, toEnv } from '../apps/cli/src/stack/stack';
import { startStackStoppedBySignal } from '../apps/cli/src/commands/stack.command';
import { promSample } from '../apps/cli/src/stress/prom-text';
import { keysHolding } from '../test/reliability/support/keys-holding';
import { QueueProbe } from '../test/reliability/support/queue-probe';
import { auditStore } from '../test/reliability/support/store-audit';
import { type FloodOptions, TurnFlood } from '../test/reliability/support/turn-flood';
import { OpenAiWireServer } from '../test/support/openai-wire-server';
import { RedisServer } from '../test/support/redis-server';

/**
 * The outside fault and abuse run of issue 10, rerun against the built main: real processes (2 embedders,
 * 2 retrievers, the in-process HNSW), a private redis-server with the compose persistence settings, two tenants,
 * real HTTP and raw sockets. Prints every attack's figures and writes JSON to reports/; rewrites the
 * "Attack rerun" section of docs/reliability.md only with --write-docs.
 */
const program = new Command('attack-run')
  .option('--flood-seconds <s>', "tenant B's write flood, and the Redis SIGSTOP", '30')
  .option('--appendfsync <mode>', "the main Redis's appendfsync (compose: always)", 'always')
  .option('--json <file>', 'where to write the figures', 'reports/attack-run.json')
  .option('--log <file>', "where the stack's processes log", 'reports/attack-run.log')
  .option('--only <groups>', 'comma-separated groups to run (isolation, resend, small-faults, forget, nested-json, neighbour-flood, delete-during-flood, kill-retriever, kill-api, redis-term-kill, redis-stall, wire, long-words, junk-and-mcp, issue-21, provider, limits)')
  .option('--write-docs', 'rewrite the attack rerun section of docs/reliability.md')
  .parse();
const opts = program.opts<{ floodSeconds: string; appendfsync: string; json: string; log: string; only?: string; writeDocs?: boolean }>();
const only = opts.only?.split(',');
if (only && opts.writeDocs) program.error('--write-docs records a whole run: not with --only');
const runs = (group: string) => !only || only.includes(group);
mkdirSync(dirname(opts.log), { recursive: true });
const logFile = createWriteStream(opts.log);
const sink = (name: string, line: string) => logFile.write(`${new Date().toISOString()} [${name}] ${line}\n`);
const FLOOD_MS = Number(opts.floodSeconds) * 1000;

const TENANT_A = 'alpha';
const TENANT_B = 'beta';
const KEY_A = 'sk-attack-alpha-0123456789abcdef';
const KEY_B = 'sk-attack-beta-0123456789abcdef0';
const API_KEYS = `${TENANT_A}:${KEY_A},${TENANT_B}:${KEY_B}`;
/** The compose Redis: AOF fsync'd every second, refuse writes rather than evict. */
const COMPOSE_REDIS = ['--save', '', '--appendonly', 'yes', '--appendfsync', opts.appendfsync, '--maxmemory-policy', 'noeviction'];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;
const load = () => loadavg().map((l) => round(l, 2)).join(' ');
const tally = (xs: (string | number)[]) => xs.reduce<Record<string, number>>((m, x) => ({ ...m, [String(x)]: (m[String(x)] ?? 0) + 1 }), {});
const pct = (xs: number[]) => {
  if (xs.length === 0) return { count: 0 };
  const p = percentiles(xs);
  return { count: p.count, p50: round(p.p50), p99: round(p.p99), max: round(Math.max(...xs)) };
};

interface Attack {
  id: string;
  item: string;
  title: string;
  figures: Record<string, unknown>;
  held: boolean;
}

/** The Done-when figures, summed over every attack. */
const done = { acknowledgedLost: 0, requestsOverJobTimeout: 0, badInput5xx: 0, slowestMs: 0 };
const attacks: Attack[] = [];
let hangMs = 16_000;

function record(attack: Attack): void {
  attacks.push(attack);
  process.stdout.write(`${attack.held ? 'held ' : 'FAILED'} ${attack.item.padEnd(6)} ${attack.title}\n       ${JSON.stringify(attack.figures)}\n`);
}

interface Answer {
  status: number | 'network';
  ms: number;
  text: string;
  headers?: Headers;
}

/** One request through fetch; its time counts towards the hang figure. */
async function call(base: string, method: string, path: string, o: { key?: string; auth?: string; body?: unknown; raw?: string; headers?: Record<string, string>; timeoutMs?: number } = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...(o.key ? { authorization: `Bearer ${o.key}` } : {}), ...(o.auth ? { authorization: o.auth } : {}), ...o.headers };
  const body = o.raw ?? (o.body === undefined ? undefined : JSON.stringify(o.body));
  if (body !== undefined) headers['content-type'] ??= 'application/json';
  const started = performance.now();
  try {
    const res = await fetch(`${base}${path}`, { method, headers, body, signal: AbortSignal.timeout(o.timeoutMs ?? 30_000) });
    const text = await res.text();
    return { status: res.status, ms: noteTime(performance.now() - started), text, headers: res.headers };
  } catch {
    return { status: 'network', ms: noteTime(performance.now() - started), text: '' };
  }
}

/**
 * A write within the limits may still meet the tenant's bound on concurrent bulk writes (429 with Retry-After, issue
 * 28): it is resent after the wait, as a well-behaved client would, up to 20 times.
 */
async function callAdmitted(...args: Parameters<typeof call>): Promise<Answer> {
  for (let attempt = 1; ; attempt++) {
    const answer = await call(...args);
    if (answer.status !== 429 || attempt === 20) return answer;
    await sleep(Number(answer.headers?.get('retry-after') ?? 1) * 1000);
  }
}

function noteTime(ms: number): number {
  done.slowestMs = Math.max(done.slowestMs, Math.round(ms));
  if (ms > hangMs) done.requestsOverJobTimeout++;
  return ms;
}

/** The `message` of an error body. */
const messageOf = (a: Answer): string => {
  try {
    return String((JSON.parse(a.text) as { message?: unknown }).message ?? a.text.slice(0, 120));
  } catch {
    return a.text.slice(0, 120);
  }
};
const is5xx = (s: number | 'network') => typeof s === 'number' && s >= 500;

/** Bytes on a raw socket (from `localAddress`); resolves with what came back once the server closed it, or at `waitMs`. */
function rawExchange(port: number, chunks: (string | Buffer)[], o: { localAddress?: string; waitMs: number; paceMs?: number }): Promise<{ reply: string; closedMs?: number }> {
  return new Promise((resolve) => {
    const started = performance.now();
    let reply = '';
    const socket = connect({ host: '127.0.0.1', port, localAddress: o.localAddress });
    const finish = (closed: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ reply, closedMs: closed ? Math.round(performance.now() - started) : undefined });
    };
    const timer = setTimeout(() => finish(false), o.waitMs);
    socket.on('data', (d) => (reply += d.toString('latin1')));
    socket.on('close', () => finish(true));
    socket.on('error', () => undefined);
    socket.on('connect', async () => {
      for (const c of chunks) {
        if (socket.destroyed) return;
        if (!socket.write(c)) await new Promise((r) => socket.once('drain', r).once('close', r));
        if (o.paceMs) await sleep(o.paceMs);
      }
    });
  });
}
const statusOf = (reply: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(reply)?.[1] ?? 0);
const responsesIn = (reply: string) => reply.match(/HTTP\/1\.1 \d{3}/g)?.length ?? 0;

function pidListening(port: number): number {
  const out = execFileSync('ss', ['-Hltnp', `sport = :${port}`]).toString();
  return Number(/pid=(\d+)/.exec(out)?.[1]);
}
const rssMiB = (pid: number) => Math.round(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024);

/** The stack of one part of the run, on its own redis-server, with processes that can be killed and started again. */
class Target {
  readonly api: string;
  readonly port: number;
  readonly probe: QueueProbe;
  readonly extra: ManagedProcess[] = [];

  private constructor(readonly redis: RedisServer, readonly stack: StackHandle, readonly config: MemoryConfig) {
    this.api = stack.apiUrl;
    this.port = Number(new URL(stack.apiUrl).port);
    this.probe = new QueueProbe(redis.url);
  }

  static async start(redisArgs: string[], env: Record<string, string>): Promise<Target> {
    const redis = await new RedisServer(redisArgs).start();
    const config = loadConfig({ LOG_LEVEL: 'warn', API_KEYS, VECTOR_BACKEND: 'hnsw', REDIS_URL: redis.url, ...env });
    const stack = await startStackStoppedBySignal({ config, embedders: 2, retrievers: 2, log: sink });
    return new Target(redis, stack, config);
  }

  /** A replacement for a process that was killed: same program, same environment. */
  async restart(app: 'api' | 'retriever', extra: Record<string, string | number>): Promise<void> {
    const p = new ManagedProcess(`${app}-again`, process.execPath, [join(repoRoot(), 'dist', 'apps', app, 'src', 'main.js')], sink, toEnv(this.config, { REDIS_URL: this.redis.url, REDIS_CLUSTER_NODES: '', ...extra }));
    this.extra.push(p);
    await p.start();
  }

  async redisPid(): Promise<number> {
    const client = new Redis(this.redis.url);
    const info = await client.info('server');
    client.disconnect();
    return Number(/process_id:(\d+)/.exec(info)?.[1]);
  }

  async workerPid(name: string): Promise<number> {
    const res = await fetch(this.stack.workerMetrics[name].replace(/\/metrics$/, '/healthz'));
    return ((await res.json()) as { pid: number }).pid;
  }

  async drained(timeoutMs = 240_000): Promise<void> {
    await this.probe.drained('embed', timeoutMs);
  }

  /** Acknowledged turns of `acked` (session -> ids) that are not stored in `tenant`. */
  async lost(tenant: string, acked: Map<string, Set<string>>): Promise<{ lost: number; problems: string[] }> {
    const audit = await auditStore(this.redis.url, this.config.EMBEDDING_DIM);
    let lost = 0;
    for (const [session, ids] of acked) {
      const stored = new Set(audit.sessions.get(`${tenant}/${session}`)?.turnIds ?? []);
      for (const id of ids) if (!stored.has(id)) lost++;
    }
    return { lost, problems: audit.problems.slice(0, 5) };
  }

  async stop(): Promise<void> {
    await this.probe.close();
    for (const p of this.extra) await p.stop();
    await this.stack.stop();
    await this.redis.stop();
  }
}

/** A flood of TurnFlood's resending clients; `stopAfterMs` aborts it (its batches in flight still count when acknowledged). */
async function flood(options: FloodOptions, stopAfterMs?: number): Promise<TurnFlood> {
  const f = new TurnFlood(options);
  const running = f.run().catch((err: Error) => {
    if (!err.message.includes('aborted')) throw err;
  });
  if (stopAfterMs !== undefined) setTimeout(() => f.abort(), stopAfterMs);
  await running;
  return f;
}
const floodOf = (t: Target, key: string, sessions: string[], loops: number, batches: number, size: number, extra: Partial<FloodOptions> = {}) =>
  ({ url: t.api, apiKey: key, sessions, loops, batchesPerLoop: batches, batchSize: size, deadlineMs: 180_000, requestTimeoutMs: 20_000, ...extra });
/** A flood's answers by status, and its slowest answer, which counts towards the hang figure. */
const outcomes = (f: TurnFlood) => ({ ...Object.fromEntries(f.result.outcomes), slowestMs: noteTime(f.result.slowestMs) });

async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < timeoutMs) {
    if (await check().catch(() => false)) return Math.round(performance.now() - started);
    await sleep(100);
  }
  return -1;
}

/** Seconds until a new write of tenant A is searchable: the index has caught up with what was written before it. */
async function indexCaughtUp(t: Target): Promise<number> {
  const started = performance.now();
  await call(t.api, 'POST', '/v1/sessions/catch-up/turns?wait=true', { key: KEY_A, body: { role: 'user', content: 'caught up' } });
  await waitFor(async () => (await call(t.api, 'GET', '/v1/sessions/catch-up/memories?q=caught', { key: KEY_A })).status === 200, 600_000);
  return round((performance.now() - started) / 1000);
}

// ---------------------------------------------------------------- the main stack: local embedder, defaults

async function isolation(t: Target): Promise<void> {
  const ids = Array.from({ length: 10 }, (_, i) => [`case-${i}`, `CASE-${i}`, `Case-${i}-x`]).flat();
  for (const id of ids) await call(t.api, 'POST', `/v1/sessions/${id}/turns?wait=true`, { key: KEY_A, body: { role: 'user', content: `alpha secret mandolin-${id}` } });
  const variants: ((id: string) => Promise<Answer>)[] = [
    (id) => call(t.api, 'GET', `/v1/sessions/${id}/turns`, { key: KEY_B }),
    (id) => call(t.api, 'GET', `/v1/sessions/%${id.charCodeAt(0).toString(16)}${id.slice(1)}/memories?q=secret%20mandolin`, { key: KEY_B }),
    (id) => call(t.api, 'GET', `/v1/sessions/${id}/turns`, { key: KEY_B, headers: { 'x-tenant-id': TENANT_A } }),
    (id) => call(t.api, 'GET', `/v1/sessions/${id}/memories?q=secret&tenant=${TENANT_A}`, { key: KEY_B }),
    (id) => call(t.api, 'POST', `/v1/sessions/${id}/chat`, { key: KEY_B, headers: { 'x-tenant-id': `${TENANT_B}` }, body: { message: 'what is the secret mandolin?' } }),
  ];
  const answers: Answer[] = [];
  for (const id of ids) for (const v of variants) answers.push(await v(id));
  answers.push(await call(t.api, 'POST', '/v1/memories/search', { key: KEY_B, body: { query: 'alpha secret mandolin' } }));
  const leaks = answers.filter((a) => a.text.includes('mandolin-')).length;
  record({ id: 'isolation', item: 'held before', title: 'tenant isolation across session-id and header variants', held: leaks === 0 && !answers.some((a) => is5xx(a.status)), figures: { requests: answers.length, leaks, statuses: tally(answers.map((a) => a.status)) } });
}

async function resendAfterDelete(t: Target): Promise<void> {
  const turns = Array.from({ length: 5 }, (_, i) => ({ role: 'user', content: `resend note ${i}`, id: `r-${i}` }));
  const total = async () => (JSON.parse((await call(t.api, 'GET', '/v1/sessions/resend/turns', { key: KEY_A })).text) as { total: number }).total;
  const first = await call(t.api, 'POST', '/v1/sessions/resend/turns?wait=true', { key: KEY_A, body: { turns } });
  await call(t.api, 'DELETE', '/v1/sessions/resend', { key: KEY_A });
  const waited = await call(t.api, 'POST', '/v1/sessions/resend/turns?wait=true', { key: KEY_A, body: { turns } });
  const afterWait = await total();
  await call(t.api, 'DELETE', '/v1/sessions/resend', { key: KEY_A });
  const queued = await call(t.api, 'POST', '/v1/sessions/resend/turns', { key: KEY_A, body: { turns } });
  await waitFor(async () => (await total()) === 5, 10_000);
  const afterQueued = await total();
  const lost = 5 - afterWait + (5 - afterQueued);
  done.acknowledgedLost += lost;
  record({ id: 'resend-after-delete', item: '10.1', title: 'a resent turn id after a DELETE', held: lost === 0, figures: { first: first.status, resendWait: waited.status, storedAfterResendWait: afterWait, resendQueued: queued.status, storedAfterResendQueued: afterQueued } });

  // 10.10: the seq and forgotten keys of a deleted session.
  await call(t.api, 'DELETE', '/v1/sessions/resend', { key: KEY_A });
  const redis = new Redis(t.redis.url);
  const keys = await redis.keys(`*${TENANT_A}:resend*`);
  const ttls = Object.fromEntries(await Promise.all(keys.map(async (k) => [k, await redis.ttl(k)] as const)));
  redis.disconnect();
  const seqKey = new KeySchema('mem').seq(TENANT_A, 'resend');
  record({ id: 'keys-after-delete', item: '10.10', title: "a deleted session's keys", held: Object.values(ttls).every((s) => s > 0), figures: { keysLeft: ttls, seqKeyTtlS: ttls[seqKey] ?? null, forgottenKeys: keys.filter((k) => k.includes('forgotten')).length } });
}

async function smallFaults(t: Target): Promise<void> {
  const acks = await Promise.all(Array.from({ length: 20 }, () => call(t.api, 'POST', '/v1/sessions/dups/turns', { key: KEY_A, body: { role: 'user', content: 'said once', id: 'dup-1' } })));
  const ackSeqs = acks.map((a) => (JSON.parse(a.text) as { turns: { seq: number }[] }).turns[0].seq);
  const next = JSON.parse((await call(t.api, 'POST', '/v1/sessions/dups/turns?wait=true', { key: KEY_A, body: { role: 'user', content: 'said next', id: 'dup-2' } })).text) as { turns: { seq: number }[] };
  await waitFor(async () => (JSON.parse((await call(t.api, 'GET', '/v1/sessions/dups/turns', { key: KEY_A })).text) as { total: number }).total === 2, 10_000);
  const history = JSON.parse((await call(t.api, 'GET', '/v1/sessions/dups/turns', { key: KEY_A })).text) as { turns: { seq: number }[] };
  const seqs = history.turns.map((h) => h.seq);
  record({ id: 'seqs-in-acks', item: '10.10', title: '20 concurrent duplicates: the seqs their acks name', held: new Set(ackSeqs).size === 1 && seqs.join() === '1,2', figures: { ackSeqs: tally(ackSeqs), nextSeq: next.turns[0].seq, historySeqs: seqs } });

  const lower = await call(t.api, 'GET', '/v1/sessions/dups/turns', { auth: `bearer ${KEY_A}` });
  const upper = await call(t.api, 'GET', '/v1/sessions/dups/turns', { auth: `BEARER ${KEY_A}` });
  record({ id: 'lowercase-bearer', item: '10.10', title: 'the auth scheme in another case', held: lower.status === 200 && upper.status === 200, figures: { bearer: lower.status, BEARER: upper.status } });

  const surrogates = [
    await call(t.api, 'POST', '/v1/sessions/sur/turns', { key: KEY_A, raw: '{"role":"user","content":"a\\ud800b"}' }),
    await call(t.api, 'POST', '/v1/sessions/sur/turns', { key: KEY_A, raw: '{"role":"user","content":"x","metadata":{"\\udc00":1}}' }),
    await call(t.api, 'POST', '/v1/sessions/sur/chat', { key: KEY_A, raw: '{"message":"hi \\ud83d"}' }),
  ];
  const paired = await call(t.api, 'POST', '/v1/sessions/sur/turns?wait=true', { key: KEY_A, body: { role: 'user', content: 'pair 😀 é 你' } });
  const back = (await call(t.api, 'GET', '/v1/sessions/sur/turns', { key: KEY_A })).text.includes('pair 😀 é 你');
  done.badInput5xx += surrogates.filter((a) => is5xx(a.status)).length;
  record({ id: 'lone-surrogates', item: '10.10', title: 'lone surrogates in content, a metadata key, a chat message', held: surrogates.every((a) => a.status === 400) && back, figures: { statuses: surrogates.map((a) => a.status), pairStored: paired.status, pairReadBackExactly: back } });

  const chat = () => call(t.api, 'POST', '/v1/sessions/chat-retry/chat', { key: KEY_A, headers: { 'idempotency-key': 'chat-once-1' }, body: { message: 'remember my locker is 42' } });
  const c1 = await chat();
  const c2 = await chat();
  const chatHistory = JSON.parse((await call(t.api, 'GET', '/v1/sessions/chat-retry/turns', { key: KEY_A })).text) as { turns: { role: string }[] };
  const userTurns = chatHistory.turns.filter((h) => h.role === 'user').length;
  record({ id: 'chat-idempotency', item: '10.10', title: 'a chat retried with the same Idempotency-Key', held: userTurns === 1 && c1.status === 200 && c2.status === 200, figures: { statuses: [c1.status, c2.status], userTurnsStored: userTurns, sameReply: JSON.parse(c1.text).reply === JSON.parse(c2.text).reply } });

  const open = await Promise.all(['/docs', '/docs-json', '/metrics', '/healthz', '/readyz'].map(async (p) => [p, (await call(t.api, 'GET', p)).status] as const));
  record({ id: 'unauthenticated-routes', item: '10.10', title: 'routes that answer without a key (documented; workers bound to METRICS_HOST)', held: true, figures: { ...Object.fromEntries(open), workerMetricsListensOn: execFileSync('ss', ['-Hltn', `sport = :${new URL(t.stack.workerMetrics['embedder-1']).port}`]).toString().trim().split(/\s+/)[3] } });
}

/** 32,000 characters of prose under the token cap (about 4 characters a token). */
function longTurn(marker: string, i: number): string {
  let text = `${marker} turn ${i}:`;
  const words = [' international', ' development', ' environment', ' information', ' management', ' performance', ' technology', ' understanding'];
  for (let w = 0; text.length < 32_000 - 14; w++) text += words[(w * 7 + i) % words.length];
  while (countTokens(text) > 8_000) text = text.slice(0, Math.floor(text.length * 0.95));
  return text;
}

async function forgetEverywhere(t: Target): Promise<void> {
  const marker = `quokka${Date.now().toString(36)}`;
  const redis = new Redis(t.redis.url);
  const used = async () => Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1]) / 2 ** 20;
  const sample = longTurn(marker, 0);
  for (let b = 0; b < 10; b++) {
    const turns = Array.from({ length: 10 }, (_, i) => ({ role: 'user', content: longTurn(marker, b * 10 + i) }));
    await call(t.api, 'POST', '/v1/sessions/forget-me/turns?wait=true', { key: KEY_A, body: { turns } });
  }
  const before = await used();
  const searches: Answer[] = [];
  for (let i = 0; i < 40; i++) searches.push(await call(t.api, 'GET', `/v1/sessions/forget-me/memories?q=ferry%20pier%20${i}&k=100`, { key: KEY_A }));
  const after = await used();
  const deleted = await call(t.api, 'DELETE', '/v1/sessions/forget-me', { key: KEY_A });
  await t.drained();
  const holding = await keysHolding(t.redis.url, marker);
  redis.disconnect();
  record({
    id: 'delete-forgets',
    item: '10.8',
    title: 'DELETE, then every key of Redis read for the content; 40 searches k=100 over 32,000-character turns',
    held: holding.length === 0 && after - before < 20,
    figures: { turnChars: sample.length, turnTokens: countTokens(sample), searchStatuses: tally(searches.map((s) => s.status)), memoriesPerSearch: (JSON.parse(searches[0].text) as { memories: unknown[] }).memories.length, redisUsedMiBBefore: round(before), redisUsedMiBAfter40: round(after), deleteStatus: deleted.status, keysHoldingContent: holding },
  });
}

async function nestedJson(t: Target): Promise<void> {
  const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);
  const bodies: [string, string][] = [
    ['/v1/sessions/nest/turns', deep(10_000)],
    ['/v1/sessions/nest/turns', `{"role":"user","content":"x","metadata":{"a":${deep(10_000)}}}`],
    ['/v1/sessions/nest/chat', `{"message":${deep(10_000)}}`],
    ['/v1/memories/search', `{"query":"x","filter":${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}}`],
    ['/v1/sessions/nest/context', deep(10_000)],
  ];
  const small = await Promise.all(bodies.map(([p, raw]) => call(t.api, 'POST', p, { key: KEY_A, raw })));
  const big = deep(1_900_000);
  let healthMax = 0;
  let stop = false;
  const polling = (async () => {
    while (!stop) healthMax = Math.max(healthMax, (await call(t.api, 'GET', '/healthz')).ms);
  })();
  const four = await Promise.all(Array.from({ length: 4 }, () => call(t.api, 'POST', '/v1/sessions/nest/turns', { key: KEY_A, raw: big })));
  stop = true;
  await polling;
  const all = [...small, ...four];
  done.badInput5xx += all.filter((a) => is5xx(a.status)).length;
  record({ id: 'nested-json', item: '10.6', title: 'JSON nested 10,000 deep on every endpoint; four 3.8 MB nested bodies at once', held: all.every((a) => a.status === 400), figures: { deep10k: small.map((a) => a.status), four38MB: four.map((a) => a.status), slowestOfFourMs: round(Math.max(...four.map((a) => a.ms))), healthzMaxMsMeanwhile: round(healthMax) } });
}

async function neighbourFlood(t: Target): Promise<void> {
  await call(t.api, 'POST', '/v1/sessions/quiet/turns?wait=true', { key: KEY_A, body: { turns: [{ role: 'user', content: 'my favourite tea is genmaicha' }, { role: 'assistant', content: 'noted: genmaicha' }] } });
  const sessions = Array.from({ length: 16 }, (_, i) => `flood-${i}`);
  const loads: string[] = [];
  const latencies: number[] = [];
  const statuses: (number | 'network')[] = [];
  const reasons = new Set<string>();
  const serverMs: number[] = [];
  let writes = 0;
  let stopped = false;
  const searching = (async () => {
    while (!stopped) {
      const a = await call(t.api, 'GET', '/v1/sessions/quiet/memories?q=which%20tea%20do%20I%20like', { key: KEY_A });
      latencies.push(a.ms);
      statuses.push(a.status);
      if (a.status === 200) serverMs.push((JSON.parse(a.text) as { timings: { total: number } }).timings.total);
      if (a.status !== 200) reasons.add(`search ${a.status} ${messageOf(a)}`);
      if (latencies.length % 20 === 0) {
        const w = await call(t.api, 'POST', '/v1/sessions/quiet-writes/turns', { key: KEY_A, body: { role: 'user', content: `a note during the flood ${writes++}` } });
        statuses.push(w.status);
        if (w.status !== 202) reasons.add(`write ${w.status} ${messageOf(w)}`);
      }
    }
  })();
  // Whether Redis itself is slow (a fresh connection's PING) or the API (its event loop's lag).
  const ping = new Redis(t.redis.url);
  const pings: number[] = [];
  const lags: number[] = [];
  const sampling = setInterval(() => {
    if (pings.length % 10 === 0) loads.push(load());
    const sent = performance.now();
    void ping.ping().then(() => pings.push(performance.now() - sent));
    void fetch(`${t.api}/metrics`).then(async (r) => lags.push((promSample(await r.text(), 'nodejs_eventloop_lag_max_seconds') ?? 0) * 1000)).catch(() => undefined);
  }, 500);
  const connections = async () => Number(/total_connections_received:(\d+)/.exec(await ping.info('stats'))?.[1]);
  const connectionsBefore = await connections();
  const f = await flood(floodOf(t, KEY_B, sessions, 16, 100_000, 500), FLOOD_MS);
  const newConnections = (await connections()) - connectionsBefore;
  stopped = true;
  clearInterval(sampling);
  ping.disconnect();
  await searching;
  const drainStarted = performance.now();
  await t.drained(600_000);
  const { lost, problems } = await t.lost(TENANT_B, f.result.acknowledged);
  done.acknowledgedLost += lost;
  const searchableAfterS = await indexCaughtUp(t);
  const search = pct(latencies);
  const a5xx = statuses.filter(is5xx).length;
  record({
    id: 'neighbour-flood',
    item: '10.4',
    title: `tenant B floods batches of 500 at concurrency 16 for ${FLOOD_MS / 1000} s while tenant A searches a 2-turn session`,
    held: a5xx === 0 && (search.p99 ?? Infinity) < 50 && lost === 0,
    figures: { tenantA5xx: a5xx, tenantAStatuses: tally(statuses), tenantAReasons: [...reasons].slice(0, 4), searchMs: search, searchServerTimingsTotalMs: pct(serverMs), tenantBAcknowledgedTurns: f.acknowledgedCount, tenantBOutcomes: outcomes(f), tenantBLost: lost, drainAfterFloodS: round((performance.now() - drainStarted) / 1000), aNewWriteSearchableAfterDrainS: searchableAfterS, redisPingMs: pct(pings), newRedisConnections: newConnections, apiEventLoopLagMaxMs: pct(lags), loadDuringFlood: loads, problems },
  });
}

async function deleteDuringFlood(t: Target): Promise<void> {
  const f = new TurnFlood(floodOf(t, KEY_A, ['del-flood'], 4, 20, 50));
  const running = f.run();
  await waitFor(async () => f.acknowledgedCount >= 1000, 60_000);
  const sentAt = Date.now();
  const del = await call(t.api, 'DELETE', '/v1/sessions/del-flood', { key: KEY_A });
  const answeredAt = Date.now();
  await running;
  await t.drained();
  const audit = await auditStore(t.redis.url, t.config.EMBEDDING_DIM);
  const stored = new Set(audit.sessions.get(`${TENANT_A}/del-flood`)?.turnIds ?? []);
  const at = [...f.result.acknowledgedAt];
  const lost = at.filter(([id, when]) => when > answeredAt && !stored.has(id)).length;
  const resurrected = at.filter(([id, when]) => when < sentAt && stored.has(id)).length;
  done.acknowledgedLost += lost;
  record({ id: 'delete-during-flood', item: 'held before', title: 'DELETE of a session in the middle of its flood', held: lost === 0 && resurrected === 0 && audit.problems.length === 0, figures: { deleteStatus: del.status, acknowledged: f.acknowledgedCount, ackedAfterDeleteLost: lost, ackedBeforeDeleteComeBack: resurrected, storedAfter: stored.size, floodOutcomes: outcomes(f) } });
}

async function killRetriever(t: Target): Promise<void> {
  await call(t.api, 'POST', '/v1/sessions/kr-read/turns?wait=true', { key: KEY_A, body: { turns: Array.from({ length: 20 }, (_, i) => ({ role: 'user', content: `retriever note ${i} about lighthouses` })) } });
  await indexCaughtUp(t);
  const searches: (Answer & { afterKill: boolean })[] = [];
  let killed = false;
  let stop = false;
  const searching = Promise.all(Array.from({ length: 4 }, async () => {
    while (!stop) {
      const afterKill = killed;
      searches.push({ ...(await call(t.api, 'GET', '/v1/sessions/kr-read/memories?q=lighthouses', { key: KEY_A })), afterKill });
    }
  }));
  const f = new TurnFlood(floodOf(t, KEY_B, ['kr-1', 'kr-2'], 4, 15, 100));
  const running = f.run();
  await sleep(2_000);
  const victim = await t.workerPid('retriever-1');
  process.kill(victim, 'SIGKILL');
  killed = true;
  // 21.11: the stack starts a worker that died again (it did not: a replacement had to be started by hand).
  const restartedMs = await waitFor(async () => ![victim, undefined].includes(await t.workerPid('retriever-1').catch(() => undefined)), 60_000);
  record({ id: 'worker-restart', item: '21.11', title: 'a SIGKILLed worker is started again by the stack', held: restartedMs >= 0, figures: { healthyAgainAfterKillMs: restartedMs < 0 ? null : restartedMs } });
  await running;
  await sleep(20_000);
  stop = true;
  await searching;
  await t.drained();
  const { lost, problems } = await t.lost(TENANT_B, f.result.acknowledged);
  done.acknowledgedLost += lost;
  const before = searches.filter((x) => !x.afterKill);
  const after = searches.filter((x) => x.afterKill);
  record({
    id: 'kill-retriever',
    item: 'held before',
    title: 'SIGKILL of a retriever while tenant B floods writes and tenant A searches (4 clients, on for 20 s after the kill)',
    held: lost === 0 && problems.length === 0 && searches.every((x) => x.status === 200 || x.status === 504),
    figures: { acknowledged: f.acknowledgedCount, lost, searchesBeforeKill: tally(before.map((x) => x.status)), searchesAfterKill: tally(after.map((x) => x.status)), searchMsAfterKill: pct(after.map((x) => x.ms)), floodOutcomes: outcomes(f), problems },
  });
}

async function killApi(t: Target): Promise<void> {
  const f = new TurnFlood(floodOf(t, KEY_A, ['ka-1', 'ka-2'], 4, 20, 50, { requestTimeoutMs: 5_000 }));
  const running = f.run();
  await waitFor(async () => f.acknowledgedCount >= 1000, 60_000);
  process.kill(pidListening(t.port), 'SIGKILL');
  const killedAt = performance.now();
  await t.restart('api', { API_PORT: t.port, API_HOST: '127.0.0.1' });
  const client = new ApiClient({ url: t.api });
  await waitFor(() => client.ready(), 60_000);
  const readyAt = performance.now();
  await running;
  await t.drained();
  const { lost, problems } = await t.lost(TENANT_A, f.result.acknowledged);
  done.acknowledgedLost += lost;
  record({ id: 'kill-api', item: 'held before', title: 'SIGKILL of the API mid-flood, a new API started on its port', held: lost === 0 && problems.length === 0, figures: { acknowledged: f.acknowledgedCount, lost, apiReadyAfterKillMs: round(readyAt - killedAt), floodOutcomes: outcomes(f), problems } });
}

async function redisTermAndKill(t: Target): Promise<void> {
  const f = new TurnFlood(floodOf(t, KEY_A, ['rk-1', 'rk-2', 'rk-3'], 6, 30, 25, { requestTimeoutMs: 10_000 }));
  const running = f.run();
  await waitFor(async () => f.acknowledgedCount >= 1500, 60_000);
  const termAt = f.acknowledgedCount;
  await t.redis.stop(true);
  await t.redis.start();
  await waitFor(async () => f.acknowledgedCount >= 3000, 60_000);
  const killAt = f.acknowledgedCount;
  const client = new Redis(t.redis.url);
  // Writes Redis put off because an fsync was still running: with everysec they are in no file yet.
  const persistence = await client.info('persistence');
  const delayedFsyncs = Number(/aof_delayed_fsync:(\d+)/.exec(persistence)?.[1]);
  const rewriting = /aof_rewrite_in_progress:1/.test(persistence);
  client.disconnect();
  const pid = await t.redisPid();
  process.kill(pid, 'SIGKILL');
  await waitFor(async () => !existsPid(pid), 5_000);
  await t.redis.start();
  await running;
  await t.drained();
  const { lost, problems } = await t.lost(TENANT_A, f.result.acknowledged);
  done.acknowledgedLost += lost;
  record({ id: 'redis-term-kill', item: 'held before', title: `Redis SIGTERM, then SIGKILL, mid-flood (appendonly yes, appendfsync ${opts.appendfsync})`, held: lost === 0 && problems.length === 0, figures: { acknowledged: f.acknowledgedCount, sigtermAfter: termAt, sigkillAfter: killAt, aofDelayedFsyncsBeforeKill: delayedFsyncs, aofRewriteAtKill: rewriting, lost, floodOutcomes: outcomes(f), problems } });
}
const existsPid = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function redisStall(t: Target): Promise<void> {
  const f = new TurnFlood(floodOf(t, KEY_A, ['st-1', 'st-2'], 4, 100_000, 25, { requestTimeoutMs: 20_000 }));
  const running = f.run().catch(() => undefined);
  await sleep(1_000);
  const probes: Record<string, () => Promise<Answer>> = {
    write: () => call(t.api, 'POST', '/v1/sessions/stall/turns', { key: KEY_A, body: { role: 'user', content: 'during the stall' } }),
    writeWait: () => call(t.api, 'POST', '/v1/sessions/stall/turns?wait=true', { key: KEY_A, body: { role: 'user', content: 'waited during the stall' } }),
    search: () => call(t.api, 'GET', '/v1/sessions/stall/memories?q=stall', { key: KEY_A }),
    chat: () => call(t.api, 'POST', '/v1/sessions/stall/chat', { key: KEY_A, body: { message: 'anything about the stall?' } }),
    history: () => call(t.api, 'GET', '/v1/sessions/stall/turns', { key: KEY_A }),
    delete: () => call(t.api, 'DELETE', '/v1/sessions/stall-other', { key: KEY_A }),
    readyz: () => call(t.api, 'GET', '/readyz'),
    metrics: () => call(t.api, 'GET', '/metrics'),
    noKey401: () => call(t.api, 'GET', '/v1/sessions/stall/turns'),
    apiHealthz: () => call(t.api, 'GET', '/healthz'),
    workerHealthz: () => call(t.stack.workerMetrics['embedder-1'].replace(/\/metrics$/, ''), 'GET', '/healthz'),
  };
  const seen: Record<string, Answer[]> = Object.fromEntries(Object.keys(probes).map((k) => [k, []]));
  t.redis.pause();
  const stallStarted = performance.now();
  while (performance.now() - stallStarted < FLOOD_MS) {
    await Promise.all(Object.entries(probes).map(async ([k, probe]) => seen[k].push(await probe())));
    await sleep(500);
  }
  t.redis.resume();
  const [writeBackMs, searchBackMs] = await Promise.all([
    waitFor(async () => (await call(t.api, 'POST', '/v1/sessions/stall/turns', { key: KEY_A, body: { role: 'user', content: 'after' } })).status === 202, 30_000),
    waitFor(async () => (await call(t.api, 'GET', '/v1/sessions/stall/memories?q=after', { key: KEY_A })).status === 200, 30_000),
  ]);
  await sleep(2_000);
  f.abort();
  await running;
  await t.drained();
  const { lost, problems } = await t.lost(TENANT_A, f.result.acknowledged);
  done.acknowledgedLost += lost;
  const byProbe = Object.fromEntries(Object.entries(seen).map(([k, as]) => [k, { statuses: tally(as.map((a) => a.status)), maxMs: round(Math.max(...as.map((a) => a.ms))) }]));
  const slowest = Math.max(...Object.values(seen).flat().map((a) => a.ms));
  record({ id: 'redis-stall', item: '10.3', title: `Redis SIGSTOPped for ${FLOOD_MS / 1000} s under a write flood, every kind of request probed every 0.5 s`, held: lost === 0 && slowest < 2_500, figures: { byProbe, slowestProbeMs: round(slowest), afterSigcontMs: { write202: writeBackMs, search200: searchBackMs }, floodAcknowledged: f.acknowledgedCount, floodOutcomes: outcomes(f), lost, problems } });
}

/** Random lowercase words: text the BPE caches have never seen (its worst case per character within the token limits). */
const randomWords = (chars: number) => {
  let text = '';
  while (text.length < chars) text += `${Array.from({ length: 3 + Math.floor(Math.random() * 6) }, () => String.fromCharCode(97 + Math.floor(Math.random() * 26))).join('')} `;
  return text.slice(0, chars);
};

/**
 * Issue 21.1: one long "word" froze the API (BPE of one pre-token is super-linear; a 256,000-character query got its
 * 400 after 77.7 s, 3 MB through MCP hung the API for 90 s), and 32,000-character turns within the limits blocked the
 * API, embedders and retrievers for seconds. Tenant B reads its history back to back meanwhile, from a client process
 * of its own; its slowest answer above its median before the attack is the stall it saw. Every process's largest
 * event-loop delay over the attack (prom-client's nodejs_eventloop_lag_max_seconds, reset at each scrape) is read as
 * well.
 */
async function longWords(t: Target): Promise<void> {
  const targets = { api: `${t.api}/metrics`, ...t.stack.workerMetrics };
  const lagMaxMs = async () =>
    Object.fromEntries(await Promise.all(Object.entries(targets).map(async ([name, url]) => [name, round((promSample(await (await fetch(url)).text(), 'nodejs_eventloop_lag_max_seconds') ?? NaN) * 1000)] as const)));
  /** B's answer times while `during` runs, read by B's own client process (scripts/attack-probe.ts). */
  const probe = async (during: () => Promise<unknown>) => {
    const client = spawn(process.execPath, [join(__dirname, 'attack-probe.js'), `${t.api}/v1/sessions/quiet/turns?limit=5`, KEY_B], { detached: true, stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    client.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const exited = once(client, 'exit');
    while (!out.startsWith('reading\n') && client.exitCode === null) await sleep(10);
    try {
      await during();
    } finally {
      client.stdin.end();
      await exited;
    }
    if (client.exitCode !== 0) throw new Error(`tenant B's client failed (exit ${client.exitCode})`);
    return JSON.parse(out.slice('reading\n'.length)) as number[];
  };
  await call(t.api, 'POST', '/v1/sessions/quiet/turns?wait=true', { key: KEY_B, body: { role: 'user', content: 'a quiet turn' } });
  const calm = await probe(() => sleep(3_000));
  const mcp = (query: string) =>
    call(t.api, 'POST', '/mcp', { key: KEY_A, headers: { accept: 'application/json, text/event-stream' }, body: { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'search_memory', arguments: { query } } } });
  const calmP50 = percentiles(calm).p50;
  /** Runs `attack` while tenant B reads: B's slowest answer above its calm median, and each process's largest event-loop delay. */
  const phase = async <T>(attack: () => Promise<T>) => {
    await lagMaxMs(); // resets the maxima
    let answers: T | undefined;
    let seconds = 0;
    const seen = await probe(async () => {
      const started = performance.now();
      answers = await attack();
      seconds = round((performance.now() - started) / 1000);
    });
    const lag = await lagMaxMs();
    return { answers: answers as T, figures: { seconds, tenantB: pct(seen), stallMs: round(Math.max(...seen) - calmP50), eventLoopLagMaxMs: lag, load: load() } };
  };
  // Within the documented limits: 32,000-character turns of one word and of unseen words, a 32,000-character query, a
  // context over 50 such turns.
  const within = await phase(async () => {
    const turns = await Promise.all([
      ...Array.from({ length: 20 }, (_, i) => callAdmitted(t.api, 'POST', '/v1/sessions/long-words/turns', { key: KEY_A, body: { role: 'user', content: 'x'.repeat(32_000 - i) } })),
      ...Array.from({ length: 10 }, () => callAdmitted(t.api, 'POST', '/v1/sessions/long-words/turns', { key: KEY_A, body: { role: 'user', content: randomWords(12_000) } })),
    ]);
    const query = await call(t.api, 'POST', '/v1/memories/search', { key: KEY_A, body: { query: 'x'.repeat(32_000) } });
    await t.drained();
    const context = await call(t.api, 'POST', '/v1/sessions/long-words/context', { key: KEY_A, body: { query: randomWords(12_000), recentTurns: 50, maxTokens: 128_000 } });
    return [...turns, query, context];
  });
  // Past them: one 256,000-character word, and 3 MB through MCP's search_memory (bodies up to 4 MiB are read and parsed).
  const past = await phase(() => Promise.all([call(t.api, 'POST', '/v1/memories/search', { key: KEY_A, body: { query: 'x'.repeat(256_000) } }), mcp('y'.repeat(3_000_000))]));
  const [tooLong, tooLongMcp] = past.answers;
  const mcpRefused = /shorter than or equal to 32000 characters/.test(tooLongMcp.text);
  done.badInput5xx += [...within.answers, ...past.answers].filter((a) => is5xx(a.status)).length;
  const answeredRight = within.answers.every((a) => a.status === 202 || a.status === 200) && tooLong.status === 400 && mcpRefused;
  record({
    id: 'long-words', item: '21.1', title: "32,000-character turns, query and 50-turn context; then a 256,000-character word and 3 MB through MCP: tenant B's reads meanwhile",
    held: answeredRight && within.figures.stallMs < 50,
    figures: { withinLimits: { answers: tally(within.answers.map((a) => a.status)), ...within.figures }, pastLimits: { search256k: tooLong.status, search256kMs: round(tooLong.ms), mcp3MBRefused: mcpRefused, mcp3MBMs: round(tooLongMcp.ms), ...past.figures }, tenantBCalm: pct(calm), targetMs: 50 },
  });
}

/** Issue 21.9 and 21.13: junk deletes of memories, unknown MCP arguments, a JSON-RPC batch repeating an id. */
async function junkDeletesAndMcpArguments(t: Target): Promise<void> {
  const client = new Redis(t.redis.url);
  const logged = async () => (await Promise.all((await client.keys('*changelog:{*}')).map((k) => client.xlen(k)))).reduce((a, b) => a + b, 0);
  const before = await logged();
  const deletes: Answer[] = [];
  for (let i = 0; i < 2_000; i++) deletes.push(await call(t.api, 'DELETE', `/v1/memories/u.ghost.${String(i).padStart(16, 'A')}`, { key: KEY_A }));
  const appended = (await logged()) - before;
  client.disconnect();
  record({ id: 'junk-memory-deletes', item: '21.9', title: '2,000 DELETEs of memories that do not exist', held: appended === 0 && deletes.every((a) => a.status === 404), figures: { answers: tally(deletes.map((a) => a.status)), changeLogEntriesAppended: appended } });

  const rpc = (body: unknown) => call(t.api, 'POST', '/mcp', { key: KEY_A, headers: { accept: 'application/json, text/event-stream' }, body });
  const request = (id: number, name: string, args: Record<string, unknown>) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } });
  const unknownArg = await rpc(request(1, 'search_memory', { query: 'secret', tenant: TENANT_B }));
  const refusedArg = /"isError":\s*true/.test(unknownArg.text) && /tenant/.test(unknownArg.text);
  const repeated = await rpc([request(7, 'list_sessions', {}), request(7, 'search_memory', { query: 'secret' })]);
  const distinct = await rpc([request(1, 'list_sessions', {}), request(2, 'search_memory', { query: 'secret' })]);
  const answers = (JSON.parse(distinct.text) as { id: number }[]).map((a) => a.id).sort();
  record({
    id: 'mcp-arguments-and-batches', item: '21.13', title: 'an unknown MCP argument; a JSON-RPC batch repeating a request id, and one with distinct ids',
    held: refusedArg && repeated.status === 400 && /-32600/.test(repeated.text) && answers.join() === '1,2',
    figures: { unknownArgument: refusedArg ? 'tool error' : unknownArg.text.slice(0, 80), repeatedIdBatch: `${repeated.status} ${messageOf(repeated)}`.slice(0, 100), distinctIdBatchAnswers: answers },
  });
}

async function wireAttacks(t: Target): Promise<void> {
  // slow-loris headers: 100 sockets sending a header byte a second.
  const head = 'POST /v1/sessions/loris/turns HTTP/1.1\r\nHost: x\r\nX-Slow: ';
  const lorisStarted = performance.now();
  let healthMax = 0;
  let stop = false;
  const polling = (async () => {
    while (!stop) {
      healthMax = Math.max(healthMax, (await call(t.api, 'GET', '/healthz')).ms);
      await sleep(100);
    }
  })();
  const loris = await Promise.all(Array.from({ length: 100 }, () => rawExchange(t.port, [head, ...Array.from({ length: 40 }, () => 'a')], { localAddress: '127.0.0.3', waitMs: 45_000, paceMs: 1_000 })));
  stop = true;
  await polling;
  const closed = loris.filter((l) => l.closedMs !== undefined);
  record({ id: 'slow-loris', item: 'held before', title: '100 sockets sending their headers a byte a second', held: closed.length === 100, figures: { closedByServer: closed.length, closedAfterS: pct(closed.map((l) => (l.closedMs ?? 0) / 1000)), answers: tally(loris.map((l) => statusOf(l.reply))), healthzMaxMs: round(healthMax), tookS: round((performance.now() - lorisStarted) / 1000) } });

  // Request smuggling: conflicting framing, each with a second request hidden after the first.
  const turn = '{"role":"user","content":"smuggled"}';
  const hidden = `POST /v1/sessions/smuggled/turns HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${KEY_A}\r\nContent-Type: application/json\r\nContent-Length: ${turn.length}\r\n\r\n${turn}`;
  const base = `POST /v1/sessions/smug/turns HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${KEY_A}\r\nContent-Type: application/json\r\n`;
  const cases: Record<string, string> = {
    clAndTe: `${base}Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${hidden}`,
    twoContentLengths: `${base}Content-Length: ${turn.length}\r\nContent-Length: 0\r\n\r\n${turn}${hidden}`,
    teObfuscated: `${base}Transfer-Encoding: xchunked\r\nContent-Length: ${turn.length}\r\n\r\n${turn}`,
    teSpaceBeforeColon: `${base}Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n${hidden}`,
    teChunkedIdentity: `${base}Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n${hidden}`,
    bareLfChunk: `${base}Transfer-Encoding: chunked\r\n\r\n${turn.length.toString(16)}\n${turn}\n0\n\n${hidden}`,
  };
  const smuggling = Object.fromEntries(await Promise.all(Object.entries(cases).map(async ([k, bytes]) => {
    const r = await rawExchange(t.port, [bytes], { waitMs: 3_000 });
    return [k, { status: statusOf(r.reply), responses: responsesIn(r.reply) }] as const;
  })));
  const smuggled = (JSON.parse((await call(t.api, 'GET', '/v1/sessions/smuggled/turns', { key: KEY_A })).text) as { total: number }).total;
  const smuggling5xx = Object.values(smuggling).filter((s) => s.status >= 500).length;
  done.badInput5xx += smuggling5xx;
  record({ id: 'smuggling', item: 'held before', title: 'request smuggling: conflicting Content-Length / Transfer-Encoding, a request hidden behind', held: smuggled === 0 && smuggling5xx === 0 && Object.values(smuggling).every((s) => s.responses <= 1), figures: { ...smuggling, hiddenTurnsStored: smuggled } });

  // 100 MB bodies, declared and chunked, with a valid key.
  const pid = pidListening(t.port);
  const rssBefore = rssMiB(pid);
  const mb = Buffer.alloc(1 << 20, 'a');
  const declared = await rawExchange(t.port, [`${base}Content-Length: ${100 << 20}\r\n\r\n`, ...Array.from({ length: 100 }, () => mb)], { waitMs: 20_000, paceMs: 5 });
  const chunk = Buffer.concat([Buffer.from(`${(1 << 20).toString(16)}\r\n`), mb, Buffer.from('\r\n')]);
  const chunked = await rawExchange(t.port, [`${base}Transfer-Encoding: chunked\r\n\r\n`, ...Array.from({ length: 100 }, () => chunk)], { waitMs: 20_000, paceMs: 5 });
  const big = [statusOf(declared.reply), statusOf(chunked.reply)];
  done.badInput5xx += big.filter((s) => s >= 500).length;
  record({ id: 'huge-bodies', item: 'held before', title: '100 MB bodies, with Content-Length and chunked', held: big.every((s) => s === 413), figures: { declared: big[0], declaredClosedMs: declared.closedMs, chunked: big[1], chunkedClosedMs: chunked.closedMs, apiRssMiB: [rssBefore, rssMiB(pid)] } });

  // 10.5: slow bodies with a bad key.
  const slowHead = `POST /v1/sessions/slow/turns HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sk-wrong-key\r\nContent-Type: application/json\r\nContent-Length: ${4 << 20}\r\n\r\n`;
  const body = Buffer.alloc((4 << 20) - 1, ' ');
  const rss0 = rssMiB(pid);
  let rssPeak = rss0;
  const sampling = setInterval(() => (rssPeak = Math.max(rssPeak, rssMiB(pid))), 100);
  const slow = await Promise.all(Array.from({ length: 100 }, () => rawExchange(t.port, [slowHead, body], { localAddress: '127.0.0.5', waitMs: 15_000 })));
  clearInterval(sampling);
  const slowStatuses = slow.map((s) => statusOf(s.reply));
  done.badInput5xx += slowStatuses.filter((s) => s >= 500).length;
  const slowClosed = slow.filter((s) => s.closedMs !== undefined);
  record({ id: 'slow-bodies', item: '10.5', title: '100 sockets each sending all but one byte of a 4 MiB body with a bad key', held: slowClosed.length === 100 && rssPeak - rss0 < 100, figures: { answers: tally(slowStatuses), closedByServer: slowClosed.length, closedAfterMs: pct(slowClosed.map((s) => s.closedMs ?? 0)), apiRssMiB: { before: rss0, peak: rssPeak, after: rssMiB(pid) } } });

  // 10.10: failed logins from one address, 3,000 in about a second.
  const agent = new Agent({ keepAlive: true, maxSockets: 50 });
  const guess = (key: string, localAddress: string) =>
    new Promise<number>((resolve) => {
      const req = httpRequest({ host: '127.0.0.1', port: t.port, path: '/v1/sessions/x/turns', headers: { authorization: `Bearer ${key}` }, localAddress, agent }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', () => resolve(0));
      req.end();
    });
  const guessStarted = performance.now();
  const guesses = await Promise.all(Array.from({ length: 3000 }, (_, i) => guess(`sk-guess-${i}`, '127.0.0.9')));
  const guessS = round((performance.now() - guessStarted) / 1000, 2);
  // 21.10: valid keys from the throttled address (a NAT, a proxy) are never refused for the others' failures.
  const validThere = await Promise.all(Array.from({ length: 20 }, () => guess(KEY_A, '127.0.0.9')));
  const validElsewhere = await guess(KEY_A, '127.0.0.1');
  agent.destroy();
  done.badInput5xx += guesses.filter((s) => s >= 500).length;
  record({ id: 'failed-logins', item: '10.10, 21.10', title: '3,000 wrong keys from one address, then 20 valid keys from it', held: guesses.filter((s) => s === 401).length <= t.config.AUTH_FAILURES_PER_MINUTE && validThere.every((s) => s === 200), figures: { answers: tally(guesses), tookS: guessS, validKeysSameAddress: tally(validThere), validKeyOtherAddress: validElsewhere } });
}

/** Issue 21: the chat/DELETE race, turn ids left in Redis after a DELETE, and one MCP request past the REST limits. */
async function issue21(t: Target): Promise<void> {
  // 21.3: a DELETE while a chat on the session is in flight; the reply must not bring the session back.
  const sessions = Array.from({ length: 20 }, (_, i) => `chat-race-${i}`);
  for (const s of sessions) await call(t.api, 'POST', `/v1/sessions/${s}/turns?wait=true`, { key: KEY_A, body: { role: 'user', content: 'my alarm code is 8812' } });
  // Each DELETE is sent once the chat's own message is stored (the chat is then past its write, before or at its reply):
  // whatever is listed afterwards was written after the DELETE answered.
  const raced = await Promise.all(sessions.map(async (s, i) => {
    let finished = false;
    const chat = call(t.api, 'POST', `/v1/sessions/${s}/chat`, { key: KEY_A, body: { message: `what is my alarm code? (${i})` } }).finally(() => (finished = true));
    await waitFor(async () => finished || (await call(t.api, 'GET', `/v1/sessions/${s}/turns`, { key: KEY_A })).text.includes(`(${i})`), 20_000);
    const deleted = await call(t.api, 'DELETE', `/v1/sessions/${s}`, { key: KEY_A });
    const inFlight = !finished;
    return { chat: (await chat).status, deleted: deleted.status, inFlight };
  }));
  await t.drained();
  const listed = (JSON.parse((await call(t.api, 'GET', '/v1/sessions?limit=500', { key: KEY_A })).text) as { sessions: { sessionId: string }[] }).sessions.map((x) => x.sessionId);
  const cameBack = sessions.filter((s) => listed.includes(s)).length;
  record({ id: 'chat-delete-race', item: '21.3', title: 'DELETE of 20 sessions, each while a chat on it is in flight', held: cameBack === 0, figures: { chats: tally(raced.map((r) => r.chat)), deletes: tally(raced.map((r) => r.deleted)), deletedWhileChatInFlight: raced.filter((r) => r.inFlight).length, sessionsBack: cameBack } });

  // 21.5: a DELETE leaves no turn id (nor content) in Redis, the queues' events streams included.
  const idMarker = `gnu${Date.now().toString(36)}`;
  await call(t.api, 'POST', '/v1/sessions/ids-gone/turns?wait=true', { key: KEY_A, body: { turns: [0, 1, 2].map((i) => ({ role: 'user', content: `${idMarker} content ${i}`, id: `${idMarker}-${i}` })) } });
  await call(t.api, 'DELETE', '/v1/sessions/ids-gone', { key: KEY_A });
  await t.drained();
  const holding = await keysHolding(t.redis.url, idMarker);
  record({ id: 'ids-after-delete', item: '21.5', title: 'DELETE, then every key of Redis (events streams too) read for the turn ids', held: holding.length === 0, figures: { keysHoldingIdsOrContent: holding } });

  // 21.7: one MCP POST, a JSON-RPC batch of 50 store_turns calls of 1,000 turns each.
  const redis = new Redis(t.redis.url);
  const queuedBefore = Number((await redis.get(new KeySchema('mem').queued(TENANT_B))) ?? 0);
  const batch = Array.from({ length: 50 }, (_, c) => ({ jsonrpc: '2.0', id: c, method: 'tools/call', params: { name: 'store_turns', arguments: { sessionId: 'mcp-batch', turns: Array.from({ length: 1000 }, (_, i) => ({ role: 'user', content: `batched ${c}.${i}` })) } } }));
  const posted = await call(t.api, 'POST', '/mcp', { key: KEY_B, body: batch, headers: { accept: 'application/json, text/event-stream' } });
  await sleep(1_000);
  const stored = (JSON.parse((await call(t.api, 'GET', '/v1/sessions/mcp-batch/turns', { key: KEY_B })).text) as { total: number }).total;
  const queuedAfter = Number((await redis.get(new KeySchema('mem').queued(TENANT_B))) ?? 0);
  redis.disconnect();
  done.badInput5xx += is5xx(posted.status) ? 1 : 0;
  record({ id: 'mcp-batch', item: '21.7', title: 'one MCP POST: a JSON-RPC batch of 50 store_turns calls of 1,000 turns each', held: posted.status === 400 && stored === 0 && queuedAfter <= queuedBefore, figures: { status: posted.status, message: messageOf(posted).slice(0, 80), turnsStored: stored, queuedBefore, queuedAfter } });
}

// ---------------------------------------------------------------- a stack on the OpenAI wire-format server

async function providerAttacks(): Promise<void> {
  const wire = await new OpenAiWireServer({ dim: 1024 }).start();
  const t = await Target.start(COMPOSE_REDIS, { EMBEDDING_PROVIDER: 'openai-compatible', OPENAI_BASE_URL: wire.baseURL, EMBED_BATCH_WAIT_MS: '50' });
  try {
    // 10.2 and 21.2: B's turn that the provider refuses (its model takes 2,000 tokens) with a 400, then with a 500, amid A's 300.
    wire.maxInputTokens = 2_000;
    for (const [item, status] of [['10.2', 400], ['21.2', 500]] as const) {
      wire.tooLongStatus = status;
      await t.probe.queues.embed.clean(0, 1000, 'failed');
      const neighbour = `neighbour-${status}`;
      const acked = new Map([[neighbour, new Set<string>()]]);
      const statuses: number[] = [];
      await Promise.all(Array.from({ length: 12 }, async (_, b) => {
        const turns = Array.from({ length: 25 }, (_, i) => ({ role: 'user', content: `A's note ${b}.${i} about the harbour`, id: `a-${b}-${i}` }));
        const res = await call(t.api, 'POST', `/v1/sessions/${neighbour}/turns`, { key: KEY_A, body: { turns } });
        statuses.push(res.status as number);
        if (res.status === 202) turns.forEach((x) => acked.get(neighbour)!.add(x.id));
        if (b === 5) statuses.push((await call(t.api, 'POST', `/v1/sessions/long-${status}/turns`, { key: KEY_B, body: { role: 'user', content: '你'.repeat(5_000), id: 'b-long' } })).status as number);
      }));
      const tooLong = await call(t.api, 'POST', '/v1/sessions/long/turns', { key: KEY_B, body: { role: 'user', content: '你'.repeat(30_000) } });
      await t.drained();
      const { lost, problems } = await t.lost(TENANT_A, acked);
      const failed = await t.probe.failed('embed');
      done.acknowledgedLost += lost;
      done.badInput5xx += is5xx(tooLong.status) ? 1 : 0;
      record({ id: `bad-input-isolation-${status}`, item, title: `tenant B's turn refused with a ${status} by an OpenAI-compatible provider, amid tenant A's 300`, held: lost === 0 && failed === 1 && tooLong.status === 400, figures: { writes: tally(statuses), tenantAAcknowledged: acked.get(neighbour)!.size, tenantALost: lost, failedJobs: failed, failedReason: (await t.probe.failedReasons('embed', 1))[0]?.slice(0, 120), turnOf30000Tokens: tooLong.status, providerCalls: wire.requests.length, problems } });
      wire.reset();
    }

    // 10.9: can A tell whether B just searched an exact text? Half the texts are searched by B first.
    wire.maxInputTokens = undefined;
    const embedMs = async (key: string, q: string) => {
      const a = await call(t.api, 'GET', `/v1/sessions/probe/memories?q=${encodeURIComponent(q)}`, { key });
      return { ms: a.ms, embed: (JSON.parse(a.text) as { timings: { embed: number } }).timings.embed };
    };
    const primed: { ms: number; embed: number }[] = [];
    const unprimed: { ms: number; embed: number }[] = [];
    for (let i = 0; i < 20; i++) {
      const text = `is anyone asking about secret project ${i} ${Date.now()}`;
      if (i % 2 === 0) await embedMs(KEY_B, text);
      (i % 2 === 0 ? primed : unprimed).push(await embedMs(KEY_A, text));
    }
    const threshold = percentiles([...primed, ...unprimed].map((x) => x.embed)).p50;
    const repeat = await embedMs(KEY_A, 'is anyone asking about secret project 1 again');
    const repeatHit = await embedMs(KEY_A, 'is anyone asking about secret project 1 again');
    const detections = primed.filter((x) => x.embed < threshold / 2).length;
    const falseAlarms = unprimed.filter((x) => x.embed < threshold / 2).length;
    record({ id: 'query-cache', item: '10.9', title: "the query cache's timing: tenant A after tenant B searched the same text", held: detections <= 1, figures: { embedMsAfterB: pct(primed.map((x) => x.embed)), embedMsFresh: pct(unprimed.map((x) => x.embed)), detectionsOf10: detections, falseAlarmsOf10: falseAlarms, ownRepeatEmbedMs: [round(repeat.embed, 2), round(repeatHit.embed, 2)] } });
  } finally {
    await t.stop();
    await wire.stop();
  }
}

// ---------------------------------------------------------------- a stack with RATE_LIMIT_PER_MINUTE=100, no persistence

async function limitsAndRollback(): Promise<void> {
  const t = await Target.start(['--save', '', '--appendonly', 'no'], { RATE_LIMIT_PER_MINUTE: '100' });
  try {
    const routes = [
      () => call(t.api, 'GET', '/v1/sessions/rl/turns', { key: KEY_B }),
      () => call(t.api, 'GET', '/v1/sessions/rl/memories?q=x', { key: KEY_B }),
      () => call(t.api, 'POST', '/v1/sessions/rl/turns', { key: KEY_B, body: { role: 'user', content: 'rate' } }),
      () => call(t.api, 'POST', '/v1/memories/search', { key: KEY_B, body: { query: 'x' } }),
      () => call(t.api, 'GET', '/v1/sessions', { key: KEY_B }),
    ];
    const answers: Answer[] = [];
    for (let i = 0; i < 500; i++) answers.push(await routes[i % 5]());
    const other = await call(t.api, 'GET', '/v1/sessions/rl/turns', { key: KEY_A });
    const admitted = answers.filter((a) => a.status !== 429).length;
    record({ id: 'rate-limit', item: '10.10', title: 'RATE_LIMIT_PER_MINUTE=100, 500 requests over 5 routes from one tenant', held: admitted <= 100 && other.status === 200, figures: { admitted, answers: tally(answers.map((a) => a.status)), otherTenant: other.status } });

    // 10.7: Redis restarted from a snapshot taken before the cherries.
    const write = (words: string[]) => call(t.api, 'POST', '/v1/sessions/fruit/turns?wait=true', { key: KEY_A, body: { turns: words.map((w) => ({ role: 'user', content: `I bought ${w} at the market` })) } });
    const search = async (q: string) => (JSON.parse((await call(t.api, 'GET', `/v1/sessions/fruit/memories?q=${q}&k=3`, { key: KEY_A })).text) as { memories: { content: string }[] }).memories.map((m) => m.content);
    await write(['apples', 'green apples', 'red apples']);
    const client = new Redis(t.redis.url);
    await client.save();
    client.disconnect();
    copyFileSync(join(t.redis.dir, 'dump.rdb'), join(t.redis.dir, 'before.rdb'));
    await write(['cherries', 'sour cherries', 'black cherries']);
    await t.redis.stop(true);
    copyFileSync(join(t.redis.dir, 'before.rdb'), join(t.redis.dir, 'dump.rdb'));
    await t.redis.start();
    const backMs = await waitFor(async () => (await call(t.api, 'POST', '/v1/sessions/probe/turns?wait=true', { key: KEY_A, body: { role: 'user', content: 'probe' } })).status === 200, 30_000);
    await write(['bananas', 'ripe bananas', 'green bananas']);
    const bananas = await search('bananas');
    const cherries = await search('cherries');
    const rebuilds = promSample(await (await fetch(t.stack.workerMetrics['retriever-1'])).text(), 'agent_memory_index_rebuilds_total', { reason: 'rolled_back' });
    const wrong = bananas.filter((c) => !c.includes('bananas')).length + cherries.filter((c) => c.includes('cherries')).length;
    record({ id: 'redis-rollback', item: '10.7', title: 'Redis restarted from a snapshot older than acknowledged writes (seqs given again)', held: wrong === 0, figures: { writesBackAfterMs: backMs, bananasSearch: bananas, cherriesSearch: cherries, wrongAnswers: wrong, rebuildsRolledBack: rebuilds ?? null } });
  } finally {
    await t.stop();
  }
}

// ---------------------------------------------------------------- the run

/** Figures as compact text for a table cell: JSON without its quotes and outer braces. */
const cell = (figures: Record<string, unknown>) => JSON.stringify(figures).slice(1, -1).replace(/"/g, '').replace(/,(?=[A-Za-z])/g, ', ').replace(/\|/g, '\\|');

function markdown(report: { date: string; machine: string; loadBefore: string; loadAfter: string; done: typeof done; durationS: number }): string {
  const rows = attacks.map((a) => `| ${a.item} | ${a.title} | ${a.held ? (a.figures.outOfReach ? 'out of reach' : 'held') : '**not met**'} | ${cell(a.figures)} |`);
  const neighbour = attacks.find((a) => a.id === 'neighbour-flood')?.figures as { tenantA5xx: number; searchMs: { p50: number; p99: number } } | undefined;
  return [
    '<!-- attack-rerun:start (written by `npm run attack -- --write-docs`) -->',
    `Run of ${report.date}, ${report.durationS} s: ${report.machine}; load average ${report.loadBefore} before, ${report.loadAfter} after.`,
    '',
    `Done-when figures: **${report.done.acknowledgedLost}** acknowledged turns lost; **${report.done.requestsOverJobTimeout}** requests past JOB_TIMEOUT_MS + 1 s (the slowest answer ${report.done.slowestMs} ms); **${report.done.badInput5xx}** 5xx from bad input` +
      (neighbour ? `; under the neighbour's flood tenant A got **${neighbour.tenantA5xx}** 5xx and searched in P50 **${neighbour.searchMs.p50} ms**, P99 **${neighbour.searchMs.p99} ms** (target < 50 ms).` : '.'),
    '',
    '| Item | Attack | Outcome | Figures |',
    '|---|---|---|---|',
    ...rows,
    '<!-- attack-rerun:end -->',
  ].join('\n');
}

async function main(): Promise<void> {
  const started = performance.now();
  const loadBefore = load();
  const t = await Target.start(COMPOSE_REDIS, {});
  hangMs = t.config.JOB_TIMEOUT_MS + 1_000;
  const groups: [string, (t: Target) => Promise<void>][] = [
    ['isolation', isolation],
    ['resend', resendAfterDelete],
    ['small-faults', smallFaults],
    ['forget', forgetEverywhere],
    ['nested-json', nestedJson],
    ['neighbour-flood', neighbourFlood],
    ['delete-during-flood', deleteDuringFlood],
    ['kill-retriever', killRetriever],
    ['kill-api', killApi],
    ['redis-term-kill', redisTermAndKill],
    ['redis-stall', redisStall],
    ['wire', wireAttacks],
    ['long-words', longWords],
    ['junk-and-mcp', junkDeletesAndMcpArguments],
    ['issue-21', issue21],
  ];
  try {
    for (const [group, attack] of groups) if (runs(group)) await attack(t);
  } finally {
    await t.stop();
  }
  if (runs('provider')) await providerAttacks();
  if (runs('limits')) await limitsAndRollback();
  record({ id: 'redisearch-timeout', item: '10.11', title: 'a RediSearch query that times out', held: true, figures: { outOfReach: 'no RediSearch module on this machine; covered by the REDIS_STACK_URL run only' } });

  const m = machine();
  const report = { date: new Date().toISOString(), machine: describeMachine(m), loadBefore, loadAfter: load(), done, durationS: round((performance.now() - started) / 1000), attacks };
  process.stdout.write(`\nacknowledged turns lost ${done.acknowledgedLost}; requests past ${hangMs} ms ${done.requestsOverJobTimeout} (slowest ${done.slowestMs} ms); 5xx from bad input ${done.badInput5xx}\n`);
  mkdirSync(dirname(opts.json), { recursive: true });
  writeFileSync(opts.json, `${JSON.stringify(report, null, 2)}\n`);
  if (opts.writeDocs) {
    const path = join(repoRoot(), 'docs', 'reliability.md');
    const doc = readFileSync(path, 'utf8');
    const section = markdown(report);
    const replaced = doc.replace(/<!-- attack-rerun:start[\s\S]*?<!-- attack-rerun:end -->/, section);
    writeFileSync(path, replaced === doc && !doc.includes('attack-rerun:start') ? `${doc}\n${section}\n` : replaced);
  }
  if (attacks.some((a) => !a.held)) process.exitCode = 1;
}

main().then(
  () => process.exit(),
  (err: Error) => {
    process.stderr.write(`${err.stack}\n`);
    process.exit(2);
  },
);
