import { Command } from 'commander';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { loadConfig } from '@app/memory/config/load-config';
import { percentiles } from '@app/memory/metrics/quantiles';
import { syntheticTexts } from '../apps/cli/src/bench/synthetic-corpus';
import { ApiClient } from '../apps/cli/src/http/api-client';
import { promSample } from '../apps/cli/src/stress/prom-text';
import { describeMachine, machine } from '../apps/cli/src/report/machine';
import { freePort } from '../apps/cli/src/stack/free-port';
import { startStackStoppedBySignal } from '../apps/cli/src/commands/stack.command';

/**
 * A user's memories across their sessions against one session's, over real HTTP on a private stack, in the same run:
 * POST /v1/memories/search filtered by userId (inside the index) and GET /v1/sessions/:id/memories, interleaved.
 * Prints a table and writes JSON; docs/benchmarks/ only with --write-docs.
 */
const program = new Command('bench-user-search')
  .option('--n <n>', 'turns to preload', '100000')
  .option('--users <u>', 'users they belong to', '1000')
  .option('--sessions-per-user <s>', 'sessions of each user', '2')
  .option('--queries <q>', 'searches of each kind to time', '2000')
  .option('--json <file>', 'where to write the figures as JSON', 'reports/bench-user-search.json')
  .option('--write-docs', 'also write docs/benchmarks/user-search.{json,md}')
  .parse();

const opts = program.opts<{ n: string; users: string; sessionsPerUser: string; queries: string; json: string; writeDocs?: boolean }>();
const n = Number(opts.n);
const users = Number(opts.users);
const perUser = Number(opts.sessionsPerUser);
const round = (x: number) => Math.round(x * 100) / 100;
const summary = (xs: number[]) => {
  const p = percentiles(xs);
  return { p50: round(p.p50), p95: round(p.p95), p99: round(p.p99), p999: round(p.p999), count: p.count };
};
type Stats = ReturnType<typeof summary>;

const userOf = (u: number) => `user-${u}`;
const sessionOf = (u: number, s: number) => `user-${u}-s${s}`;

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'agent-memory-bench-'));
  const stack = await startStackStoppedBySignal({
    config: loadConfig({ AUTH_MODE: 'none', LOG_LEVEL: 'warn', QUEUE_MAX_WAITING: '10000000', TENANT_MAX_QUEUED: '10000000', RATE_LIMIT_PER_MINUTE: '100000000' }),
    redisUrl: `redis://127.0.0.1:${await freePort()}`,
    dataDir,
    log: (name, line) => name === 'redis' || process.stderr.write(`[${name}] ${line}\n`),
  });
  const api = new ApiClient({ url: stack.apiUrl });
  try {
    // Turn i belongs to user i % users, in one of that user's sessions.
    const texts = syntheticTexts(n, 11);
    const sessions = users * perUser;
    const t0 = performance.now();
    const batches = Array.from({ length: sessions }, (_, s) => ({ user: s % users, session: Math.floor(s / users), turns: [] as string[] }));
    texts.forEach((text, i) => batches[i % sessions].turns.push(text));
    for (let i = 0; i < batches.length; i += 8) {
      await Promise.all(
        batches.slice(i, i + 8).map((b) => api.addTurns(sessionOf(b.user, b.session), b.turns.map((content) => ({ role: 'user' as const, content })), false, userOf(b.user))),
      );
    }
    const pending = async () => {
      const text = await api.metricsText();
      return ['waiting', 'active'].reduce((sum, state) => sum + (promSample(text, 'agent_memory_queue_jobs', { queue: 'embed', state }) ?? 0), 0);
    };
    while ((await pending()) > 0) await new Promise((r) => setTimeout(r, 500));
    const storedS = (performance.now() - t0) / 1000;
    // A tenant-wide search waits (read-your-writes) until the index covers every write; retry past its 504s.
    for (const deadline = Date.now() + 20 * 60_000; ; ) {
      try {
        await api.searchMemories({ query: 'warm up', userId: userOf(0) });
        break;
      } catch (err) {
        if (Date.now() > deadline) throw err;
      }
    }
    const indexedS = (performance.now() - t0) / 1000;
    process.stderr.write(`preloaded ${n} turns of ${users} users: stored in ${storedS.toFixed(1)} s, indexed in ${indexedS.toFixed(1)} s\n`);

    const session: number[] = [];
    const user: number[] = [];
    let userHits = 0;
    for (let i = 0; i < Number(opts.queries); i++) {
      const j = (i * 7919) % n;
      const words = texts[j].split(' ').slice(0, 6).join(' ');
      const u = j % users;
      let t = performance.now();
      await api.memories(sessionOf(u, Math.floor((j % sessions) / users)), words, 10);
      session.push(performance.now() - t);
      t = performance.now();
      const found = await api.searchMemories({ query: words, userId: userOf(u), k: 10 });
      user.push(performance.now() - t);
      if (found.memories.some((m) => m.content === texts[j])) userHits++;
    }
    const result = {
      machine: machine(),
      turns: n,
      users,
      sessions,
      turnsPerUser: n / users,
      preload: { storedS: round(storedS), indexedS: round(indexedS) },
      sessionSearchMs: summary(session),
      userSearchMs: summary(user),
      p99Ratio: round(percentiles(user).p99 / percentiles(session).p99),
      /** Share of user searches that found the turn their query words came from. */
      userSearchFoundSource: round(userHits / user.length),
    };
    process.stdout.write(`${table(result)}\n`);
    const outputs: [string, string][] = [[opts.json, JSON.stringify(result, null, 2)]];
    if (opts.writeDocs) {
      outputs.push(['docs/benchmarks/user-search.json', JSON.stringify(result, null, 2)], ['docs/benchmarks/user-search.md', markdown(result)]);
    }
    for (const [file, text] of outputs) {
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, `${text}\n`);
      process.stderr.write(`wrote ${file}\n`);
    }
  } finally {
    await stack.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

interface Result {
  machine: ReturnType<typeof machine>;
  turns: number;
  users: number;
  sessions: number;
  turnsPerUser: number;
  preload: { storedS: number; indexedS: number };
  sessionSearchMs: Stats;
  userSearchMs: Stats;
  p99Ratio: number;
  userSearchFoundSource: number;
}

const row = (name: string, s: Stats) => `| ${name} | ${s.p50} | ${s.p95} | ${s.p99} | ${s.p999} | ${s.count} |`;
const rows = (r: Result) => [
  '| ms (client-side) | P50 | P95 | P99 | P99.9 | n |',
  '|---|---|---|---|---|---|',
  row('GET /v1/sessions/:id/memories (one session)', r.sessionSearchMs),
  row('POST /v1/memories/search {userId} (all of a user\'s sessions)', r.userSearchMs),
];

function table(r: Result): string {
  return [
    ...rows(r),
    `user P99 / session P99: ${r.p99Ratio} (target <= 1.5); user searches that found their source turn: ${r.userSearchFoundSource}`,
  ].join('\n');
}

function markdown(r: Result): string {
  return [
    `# Search by user vs by session, ${r.turns.toLocaleString('en')} stored turns of ${r.users.toLocaleString('en')} users`,
    '',
    `Machine: ${describeMachine(r.machine)}. One API, one embedder, one retriever (hnsw backend, local embedder), over loopback HTTP.`,
    `${r.turns.toLocaleString('en')} turns, ${r.turnsPerUser} per user, over ${r.sessions.toLocaleString('en')} sessions (${r.sessions / r.users} per user); stored in ${r.preload.storedS} s, searchable after ${r.preload.indexedS} s.`,
    'The two searches alternate, with the same query words, in one run.',
    '',
    ...rows(r),
    '',
    `User search P99 / session search P99: **${r.p99Ratio}** (target ≤ 1.5). User searches that found the turn their query words came from: ${r.userSearchFoundSource}.`,
    '',
    'Reproduce: `npm run bench:user-search -- --write-docs` (`--n`, `--users`, `--sessions-per-user`, `--queries`).',
  ].join('\n');
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
