import { randomUUID } from 'node:crypto';
import type { ApiClient } from '../http/api-client';
import { ApiError } from '../http/api-error';
import type { HistoryTurn, TurnInput } from '../http/api-types';
import { isRetryable, retrying } from '../http/retrying';
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
  /** The retrievers' /metrics, whose agent_memory_index_vectors tells how many turns are searchable; none: not sampled. */
  retrieverMetrics: string[];
}

/** Failed POSTs by cause (each is resent, until the batch gives up after MAX_ATTEMPTS). */
export interface FailureCounts {
  /** 429: over the tenant's rate limit. */
  throttled: number;
  /** 503: the API shed load (queues past QUEUE_MAX_WAITING, or Redis down). */
  shed: number;
  /** Other 5xx, and no answer at all. */
  errors: number;
}

/** One sample; the counts are cumulative since the start. */
export interface TimelinePoint extends FailureCounts {
  /** Seconds since the start. */
  t: number;
  accepted: number;
  stored: number;
  /**
   * Vectors the slowest retriever's index gained since the start; null when its /metrics were not read. A stored
   * turn is searchable before that (a search waits until the index covers every write before it), but not instantly.
   */
  indexed: number | null;
  /** agent_memory_queue_jobs{queue="embed",state="waiting"}; null when /metrics does not show it. */
  embedWaiting: number | null;
}

/** One acknowledged POST: when it was answered (seconds since the start) and how long it took (ms). */
export interface RequestSample {
  t: number;
  ms: number;
  /** Sent with ?wait=true: answered once its turns were searchable. */
  wait: boolean;
}

export interface StressResult {
  runId: string;
  options: StressOptions;
  sent: number;
  accepted: number;
  failedBatches: number;
  retries: number;
  failures: FailureCounts;
  /** From the first POST to the last 202 of a batch sent without wait. */
  acceptSeconds: number;
  /** Turns of batches sent without wait over acceptSeconds: what the API takes in while it is flooded. */
  acceptedPerSecond: number;
  /** Best rate over any window of at least one second: the burst rate. */
  peakAcceptedPerSecond: number;
  /** From the first POST until every acknowledged turn was in the histories and the sampled waits had answered. */
  storedSeconds: number | null;
  storedPerSecond: number | null;
  /** From the first POST until the slowest retriever's index held every acknowledged turn; null when not sampled or not reached. */
  indexedSeconds: number | null;
  /** POST latency of batches without wait. */
  acceptLatency: LatencySummary;
  /** POST latency of ?wait=true batches: accepted -> stored and searchable. */
  e2eLatency: LatencySummary;
  timeline: TimelinePoint[];
  /** Every acknowledged POST, for the HTML report's latency charts. */
  requests: RequestSample[];
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

/** Sends a batch until it is acknowledged (the client ids make a repeat harmless); false when it was given up. */
async function postWithRetry(client: ApiClient, batch: Batch, counters: { retries: number } & FailureCounts): Promise<boolean> {
  const count = (err: unknown, last: boolean) => {
    const status = err instanceof ApiError ? err.status : 0;
    counters[status === 429 ? 'throttled' : status === 503 ? 'shed' : 'errors']++;
    if (!last) counters.retries++;
  };
  try {
    await retrying(() => client.addTurns(batch.session, batch.turns, batch.wait), count);
    return true;
  } catch (err) {
    if (isRetryable(err)) return false;
    throw err;
  }
}

async function fullHistory(client: ApiClient, session: string): Promise<HistoryTurn[]> {
  const turns: HistoryTurn[] = [];
  for (;;) {
    const page = await retrying(() => client.history(session, turns.length, HISTORY_PAGE));
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

/**
 * Vectors in the slowest retriever's index (a search may reach any replica); null when there is none to read,
 * or a scrape failed (a gap in the indexed curve).
 */
export async function indexVectors(urls: readonly string[]): Promise<number | null> {
  if (urls.length === 0) return null;
  const counts = await Promise.all(
    urls.map((url) =>
      fetch(url)
        .then((res) => res.text())
        .then((text) => promSample(text, 'agent_memory_index_vectors') ?? NaN)
        .catch(() => NaN),
    ),
  );
  return counts.some(Number.isNaN) ? null : Math.min(...counts);
}

/** A queue flood through the HTTP API, then an exactly-once audit of every session. */
export async function runStress(client: ApiClient, o: StressOptions, hooks: StressHooks = {}): Promise<StressResult> {
  assertLoopback(client.url);
  const runId = randomUUID().slice(0, 8);
  const { sessions, batches } = planBatches(runId, o);
  const acknowledged = new Map<string, string[]>(sessions.map((s) => [s, []]));
  const counters = { retries: 0, throttled: 0, shed: 0, errors: 0 };
  const requests: RequestSample[] = [];
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
      lastAck = elapsed();
      requests.push({ t: lastAck, ms: performance.now() - t0, wait: batch.wait });
      acknowledged.get(batch.session)!.push(...batch.turns.map((t) => t.id!));
      accepted += batch.turns.length;
      if (!batch.wait) {
        plainAccepted += batch.turns.length;
        lastPlainAck = lastAck;
      }
      hooks.onAccepted?.(accepted);
    }
  };

  // Samples history counts, the index sizes and the embed queue's depth until everything acknowledged is
  // stored and (when the retrievers' metrics are read) indexed.
  let sending = true;
  const indexedAtStart = await indexVectors(o.retrieverMetrics);
  const sampler = async () => {
    let storedAt: number | null = null;
    for (;;) {
      const [counts, metrics, indexed] = await Promise.all([
        // Reads are shed and rate-limited like writes: the sampler waits its turn too.
        Promise.all(sessions.map((s) => retrying(() => client.history(s, 0, 1)).then((p) => p.total))),
        client.metricsText().catch(() => ''), // a missed scrape leaves a gap in the queue curve, nothing else
        indexVectors(o.retrieverMetrics),
      ]);
      stored = counts.reduce((a, b) => a + b, 0);
      const waiting = promSample(metrics, 'agent_memory_queue_jobs', { queue: 'embed', state: 'waiting' }) ?? null;
      const inIndex = indexed === null || indexedAtStart === null ? null : indexed - indexedAtStart;
      const { throttled, shed, errors } = counters;
      const t = elapsed();
      timeline.push({ t, accepted, stored, indexed: inIndex, embedWaiting: waiting, throttled, shed, errors });
      hooks.onStored?.(stored);
      if (!sending && storedAt === null && stored >= accepted) storedAt = t;
      const indexingDone = o.retrieverMetrics.length === 0 || (inIndex !== null && inIndex >= accepted);
      if (storedAt !== null && indexingDone) return { storedAt, indexedAt: o.retrieverMetrics.length ? t : null };
      if (!sending && t > lastAck + o.drainTimeoutS) return { storedAt, indexedAt: null };
      await sleep(o.sampleEveryMs);
    }
  };

  const senders = Promise.all(Array.from({ length: o.concurrency }, sender)).then(() => {
    sending = false;
  });
  const [{ storedAt, indexedAt }] = await Promise.all([sampler(), senders]);
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
    failures: { throttled: counters.throttled, shed: counters.shed, errors: counters.errors },
    acceptSeconds: lastPlainAck,
    acceptedPerSecond: lastPlainAck > 0 ? plainAccepted / lastPlainAck : 0,
    peakAcceptedPerSecond: peakRate(timeline),
    storedSeconds,
    storedPerSecond: storedSeconds ? accepted / storedSeconds : null,
    indexedSeconds: indexedAt,
    acceptLatency: summarize(requests.filter((r) => !r.wait).map((r) => r.ms)),
    e2eLatency: summarize(requests.filter((r) => r.wait).map((r) => r.ms)),
    timeline,
    requests,
    audit: auditTotals(sessionAudits),
    sessionAudits,
  };
}
