import { randomUUID } from 'node:crypto';
import type { ApiClient } from '../http/api-client';
import { ApiError } from '../http/api-error';
import type { HistoryTurn, TurnInput } from '../http/api-types';
import { summarize, type LatencySummary } from '../report/latency-report';
import { auditSession, auditTotals, stressContent, type AuditTotals, type SessionAudit } from './audit';
import { promSample } from './prom-text';

export interface StressOptions {
  sessions: number;
  turns: number;
  concurrency: number;
  /** Turns per POST. */
  batch: number;
  /** Turns per second to send at most; unlimited when omitted. */
  rate?: number;
  /** Seconds after which no new batch is sent. */
  durationS: number;
  /** Every Nth batch is sent with ?wait=true, to sample accept-to-searchable latency. */
  waitEvery: number;
  /** Seconds to wait, after the last batch, for everything to be stored. */
  drainTimeoutS: number;
  sampleEveryMs: number;
}

export interface TimelinePoint {
  /** Seconds since the start. */
  t: number;
  accepted: number;
  stored: number;
  /** agent_memory_queue_jobs{queue="embed",state="waiting"}; null when /metrics does not show it. */
  embedWaiting: number | null;
}

export interface StressResult {
  runId: string;
  options: StressOptions;
  sent: number;
  accepted: number;
  failedBatches: number;
  retries: number;
  /** From the first POST to the last 202 of a batch sent without wait. */
  acceptSeconds: number;
  /** Turns of batches sent without wait over acceptSeconds: what the API takes in while it is flooded. */
  acceptedPerSecond: number;
  /** Best rate over any window of at least one second: the burst rate. */
  peakAcceptedPerSecond: number;
  /** From the first POST until every acknowledged turn was in the histories and the sampled waits had answered. */
  storedSeconds: number | null;
  storedPerSecond: number | null;
  /** POST latency of batches without wait. */
  acceptLatency: LatencySummary;
  /** POST latency of ?wait=true batches: accepted -> stored and searchable. */
  e2eLatency: LatencySummary;
  timeline: TimelinePoint[];
  /** Raw POST latencies (ms), for the HTML report's distribution chart. */
  samples: { accept: number[]; e2e: number[] };
  audit: AuditTotals;
  sessionAudits: SessionAudit[];
}

export interface StressHooks {
  onAccepted?: (accepted: number) => void;
  onStored?: (stored: number) => void;
}

interface Batch {
  session: string;
  turns: TurnInput[];
  wait: boolean;
}

const WORDS = 'login password reset token session memory vector index embedding latency queue worker redis retrieval context budget agent reply history search recall cluster replica shard'.split(' ');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const MAX_ATTEMPTS = 8;
const MAX_BACKOFF_MS = 2000;
const HISTORY_PAGE = 100;

/** A sentence of 16 words, different per turn, so the embedder does real work. */
const filler = (n: number): string => Array.from({ length: 16 }, (_, j) => WORDS[(n * 7 + j * 13 + ((n >> 3) ^ j)) % WORDS.length]).join(' ');

/** Only loopback: a load test must never leave this machine. */
export function assertLoopback(url: string): void {
  const host = new URL(url).hostname;
  if (!['127.0.0.1', 'localhost', '[::1]', '::1'].includes(host)) throw new Error(`stress only targets loopback, not ${host}`);
}

/** The batches, sessions interleaved so that every session progresses at once; each session's last batch waits. */
export function planBatches(runId: string, o: Pick<StressOptions, 'sessions' | 'turns' | 'batch' | 'waitEvery'>): { sessions: string[]; batches: Batch[] } {
  const sessions = Array.from({ length: o.sessions }, (_, i) => `stress-${runId}-${i}`);
  const perSession = Math.ceil(o.turns / o.batch);
  const batches: Batch[] = [];
  for (let b = 0; b < perSession; b++) {
    for (const [si, session] of sessions.entries()) {
      const from = b * o.batch;
      const turns = Array.from({ length: Math.min(o.batch, o.turns - from) }, (_, j) => {
        const cid = `${runId}-${si}-${from + j}`;
        return { id: cid, role: j % 2 ? 'assistant' : 'user', content: stressContent(cid, filler(from + j)) } as TurnInput;
      });
      const index = batches.length + 1;
      batches.push({ session, turns, wait: b === perSession - 1 || index % o.waitEvery === 0 });
    }
  }
  return { sessions, batches };
}

/**
 * Sends the same batch again on a network error, 5xx or 429 (after Retry-After when the API sheds load):
 * the client ids make a repeat harmless.
 */
async function postWithRetry(client: ApiClient, batch: Batch, counters: { retries: number }): Promise<boolean> {
  for (let attempt = 1; ; attempt++) {
    try {
      await client.addTurns(batch.session, batch.turns, batch.wait);
      return true;
    } catch (err) {
      const retryable = err instanceof TypeError || (err instanceof ApiError && err.retryable);
      if (!retryable) throw err;
      if (attempt === MAX_ATTEMPTS) return false;
      counters.retries++;
      await sleep(Math.min(MAX_BACKOFF_MS, (err instanceof ApiError && err.retryAfterMs) || 50 * 2 ** attempt));
    }
  }
}

async function fullHistory(client: ApiClient, session: string): Promise<HistoryTurn[]> {
  const turns: HistoryTurn[] = [];
  for (;;) {
    const page = await client.history(session, turns.length, HISTORY_PAGE);
    turns.push(...page.turns);
    if (page.turns.length === 0 || turns.length >= page.total) return turns;
  }
}

/** The highest accepted/s between two samples at least a second apart (the first such pair from each sample). */
export function peakRate(timeline: readonly Pick<TimelinePoint, 't' | 'accepted'>[]): number {
  let best = 0;
  let j = 0;
  for (let i = 0; i < timeline.length; i++) {
    j = Math.max(j, i);
    while (j < timeline.length && timeline[j].t - timeline[i].t < 1) j++;
    if (j === timeline.length) break;
    best = Math.max(best, (timeline[j].accepted - timeline[i].accepted) / (timeline[j].t - timeline[i].t));
  }
  return best;
}

/** A queue flood through the HTTP API, then an exactly-once audit of every session. */
export async function runStress(client: ApiClient, o: StressOptions, hooks: StressHooks = {}): Promise<StressResult> {
  assertLoopback(client.url);
  const runId = randomUUID().slice(0, 8);
  const { sessions, batches } = planBatches(runId, o);
  const acknowledged = new Map<string, string[]>(sessions.map((s) => [s, []]));
  const counters = { retries: 0 };
  const acceptMs: number[] = [];
  const e2eMs: number[] = [];
  const timeline: TimelinePoint[] = [];
  let sent = 0;
  let accepted = 0;
  let failedBatches = 0;
  let stored = 0;
  let lastAck = 0;
  let plainAccepted = 0;
  let lastPlainAck = 0;
  let next = 0;
  const start = performance.now();
  const elapsed = () => (performance.now() - start) / 1000;

  const sender = async () => {
    while (next < batches.length && elapsed() < o.durationS) {
      const batch = batches[next++];
      if (o.rate) await sleep((sent / o.rate) * 1000 - (performance.now() - start));
      sent += batch.turns.length;
      const t0 = performance.now();
      if (!(await postWithRetry(client, batch, counters))) {
        failedBatches++;
        continue;
      }
      (batch.wait ? e2eMs : acceptMs).push(performance.now() - t0);
      acknowledged.get(batch.session)!.push(...batch.turns.map((t) => t.id!));
      accepted += batch.turns.length;
      lastAck = elapsed();
      if (!batch.wait) {
        plainAccepted += batch.turns.length;
        lastPlainAck = lastAck;
      }
      hooks.onAccepted?.(accepted);
    }
  };

  // Samples history counts and the embed queue's depth until everything acknowledged is stored.
  let sending = true;
  const sampler = async () => {
    for (;;) {
      const [counts, metrics] = await Promise.all([
        Promise.all(sessions.map((s) => client.history(s, 0, 1).then((p) => p.total))),
        client.metricsText().catch(() => ''),
      ]);
      stored = counts.reduce((a, b) => a + b, 0);
      const waiting = promSample(metrics, 'agent_memory_queue_jobs', { queue: 'embed', state: 'waiting' }) ?? null;
      timeline.push({ t: elapsed(), accepted, stored, embedWaiting: waiting });
      hooks.onStored?.(stored);
      if (!sending && stored >= accepted) return elapsed();
      if (!sending && elapsed() > lastAck + o.drainTimeoutS) return null;
      await sleep(o.sampleEveryMs);
    }
  };

  const sampling = sampler();
  await Promise.all(Array.from({ length: o.concurrency }, sender));
  sending = false;
  const storedAt = await sampling;
  const storedSeconds = storedAt === null ? null : Math.max(storedAt, lastAck);

  const sessionAudits: SessionAudit[] = [];
  for (const s of sessions) sessionAudits.push(auditSession(s, acknowledged.get(s)!, await fullHistory(client, s)));
  return {
    runId,
    options: o,
    sent,
    accepted,
    failedBatches,
    retries: counters.retries,
    acceptSeconds: lastPlainAck,
    acceptedPerSecond: lastPlainAck > 0 ? plainAccepted / lastPlainAck : 0,
    peakAcceptedPerSecond: peakRate(timeline),
    storedSeconds,
    storedPerSecond: storedSeconds ? accepted / storedSeconds : null,
    acceptLatency: summarize(acceptMs),
    e2eLatency: summarize(e2eMs),
    timeline,
    samples: { accept: acceptMs, e2e: e2eMs },
    audit: auditTotals(sessionAudits),
    sessionAudits,
  };
}
