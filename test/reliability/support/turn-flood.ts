/** How a flood ended for one status (or 'network' for a connection error or a client-side timeout). */
export type Outcome = number | 'network';

export interface FloodOptions {
  url: string;
  apiKey?: string;
  /** Loop `i` writes to `sessions[i % sessions.length]`. */
  sessions: string[];
  loops: number;
  batchesPerLoop: number;
  batchSize: number;
  /** A request that has not answered after this long is abandoned and sent again. */
  requestTimeoutMs?: number;
  /** Retrying stops (and the flood fails) past this long since the start. */
  deadlineMs?: number;
}

export interface FloodResult {
  /** Session -> client turn ids acknowledged with 202. */
  acknowledged: Map<string, Set<string>>;
  /** Client turn id -> when (epoch ms) its 202 arrived. */
  acknowledgedAt: Map<string, number>;
  /** How many answers of each kind the flood saw, retries included. */
  outcomes: Map<Outcome, number>;
  /** The slowest answer of any kind, in ms. */
  slowestMs: number;
  /** Error messages of 5xx/429 answers, one per distinct message. */
  retryReasons: Set<string>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Several concurrent client loops that POST batches of turns with client ids and, like a well-behaved client,
 * send the same batch with the SAME ids again after a 429, a 5xx, a connection error or a timeout
 * (the idempotency contract). Every batch is eventually acknowledged, or the flood rejects at the deadline.
 */
export class TurnFlood {
  readonly result: FloodResult = { acknowledged: new Map(), acknowledgedAt: new Map(), outcomes: new Map(), slowestMs: 0, retryReasons: new Set() };
  private acked = 0;
  private aborted = false;

  constructor(private readonly options: FloodOptions) {}

  /** Stops the flood at its next request (run() then rejects), e.g. when a test gave up waiting for it. */
  abort(): void {
    this.aborted = true;
  }

  /** Turns acknowledged so far. */
  get acknowledgedCount(): number {
    return this.acked;
  }

  async run(): Promise<FloodResult> {
    const { loops, sessions } = this.options;
    for (const s of sessions) this.result.acknowledged.set(s, new Set());
    const deadline = Date.now() + (this.options.deadlineMs ?? 60_000);
    await Promise.all(Array.from({ length: loops }, (_, loop) => this.loop(loop, sessions[loop % sessions.length], deadline)));
    return this.result;
  }

  private async loop(loop: number, session: string, deadline: number): Promise<void> {
    const { batchesPerLoop, batchSize } = this.options;
    for (let b = 0; b < batchesPerLoop; b++) {
      const turns = Array.from({ length: batchSize }, (_, i) => ({
        role: 'user',
        content: `loop ${loop} batch ${b} turn ${i}: parcel ${(b * batchSize + i) % 97} is in depot ${loop}`,
        id: `l${loop}-b${b}-t${i}`,
      }));
      await this.sendUntilAcknowledged(session, turns, deadline);
      const at = Date.now();
      for (const t of turns) {
        this.result.acknowledged.get(session)!.add(t.id);
        this.result.acknowledgedAt.set(t.id, at);
      }
      this.acked += turns.length;
    }
  }

  private async sendUntilAcknowledged(session: string, turns: { id: string }[], deadline: number): Promise<void> {
    const body = JSON.stringify({ turns });
    for (;;) {
      if (this.aborted) throw new Error('flood: aborted');
      if (Date.now() > deadline) throw new Error(`flood: a batch of ${session} was still not acknowledged at the deadline`);
      const started = Date.now();
      let outcome: Outcome = 'network';
      let retryAfterMs = 100;
      try {
        const res = await fetch(`${this.options.url}/v1/sessions/${session}/turns`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(this.options.apiKey ? { authorization: `Bearer ${this.options.apiKey}` } : {}) },
          body,
          signal: AbortSignal.timeout(this.options.requestTimeoutMs ?? 10_000),
        });
        const text = await res.text();
        outcome = res.status;
        if (res.status >= 500 || res.status === 429) {
          this.result.retryReasons.add(`${res.status} ${text}`);
          const header = Number(res.headers.get('retry-after'));
          // Honour Retry-After, but not for whole seconds in a test: a tenth of it.
          if (header > 0) retryAfterMs = header * 100;
        } else if (res.status !== 202) {
          throw new Error(`flood: unexpected ${res.status} ${text}`);
        }
      } catch (err) {
        if (err instanceof Error && err.message.startsWith('flood:')) throw err;
      } finally {
        this.result.slowestMs = Math.max(this.result.slowestMs, Date.now() - started);
        this.result.outcomes.set(outcome, (this.result.outcomes.get(outcome) ?? 0) + 1);
      }
      if (outcome === 202) return;
      await sleep(retryAfterMs);
    }
  }
}
