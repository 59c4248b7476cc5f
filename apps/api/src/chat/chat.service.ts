import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { LlmProvider } from '@app/memory';
import { KeySchema, LlmRequest, MemoryConfig, ProviderError, MemoryStore, Metrics, RetrieveResult } from '@app/memory';
import { LLM_PROVIDER } from '@app/memory/nest/tokens';
import { observeProvider } from '@app/memory/metrics/observe-provider';
import { IdempotencyKeyReusedError } from '../common/idempotency-key-reused.error';
import { JobGateway } from '../common/job-gateway';
import { TurnForgottenError } from '../common/turn-forgotten.error';
import { WriteTurnsService } from '../write-turns/write-turns.service';
import { MemorySearchService } from '../search-memories/memory-search.service';
import { toMemoryHit } from '../search-memories/memory-view';
import { ChatDto, ChatResponse, ChatTimings } from './chat.dto';

interface Prepared {
  started: number;
  deadline: number;
  request: LlmRequest;
  retrieved: RetrieveResult;
  /** The user turn's id, and the reply's: derived from it (the idempotency key), so a retried chat stores its reply once. */
  userTurnId: string;
  replyId: string;
  /** A retried chat whose reply is already stored answers with it instead of asking the LLM again. */
  storedReply?: string;
  timings: Pick<ChatTimings, 'write' | 'read' | 'assemble'>;
}

export interface ChatOptions {
  /** From the Idempotency-Key header: the user turn's id (and, suffixed, the reply's). */
  idempotencyKey?: string;
  /** The request's key is bound to the dto's user (see WriteTurnsService.write). */
  userKey?: boolean;
}

const since = (t: number) => performance.now() - t;

/**
 * The prototype's cycle: store the user turn, retrieve the session's memories in the window, assemble the
 * context, call the LLM, store the reply. Storing and retrieving run side by side; the new turn is
 * excluded from its own retrieval, and everything written before the request is visible to it.
 */
@Injectable()
export class ChatService {
  constructor(
    private readonly jobs: JobGateway,
    private readonly memories: MemorySearchService,
    private readonly turns: WriteTurnsService,
    private readonly store: MemoryStore,
    private readonly keys: KeySchema,
    private readonly config: MemoryConfig,
    private readonly metrics: Metrics,
    @Inject(LLM_PROVIDER) private readonly llm: LlmProvider,
  ) {}

  get responder(): string {
    return this.llm.label;
  }

  async chat(tenant: string, session: string, dto: ChatDto, opts: ChatOptions = {}): Promise<ChatResponse> {
    const prepared = await this.prepare(tenant, session, dto, opts);
    const t = performance.now();
    try {
      const reply = prepared.storedReply ?? (await observeProvider(this.metrics, 'llm', this.llm.name, () => this.llm.complete(prepared.request)));
      return await this.finish(tenant, session, prepared, reply, since(t));
    } catch (err) {
      return this.degrade(err, prepared, since(t));
    }
  }

  /** The same cycle with the reply streamed: yields text chunks, then returns the full response. */
  async *chatStream(tenant: string, session: string, dto: ChatDto, opts: ChatOptions = {}): AsyncGenerator<string, ChatResponse> {
    const prepared = await this.prepare(tenant, session, dto, opts);
    const t = performance.now();
    let reply = '';
    try {
      for await (const chunk of prepared.storedReply === undefined ? this.llm.stream(prepared.request) : [prepared.storedReply]) {
        reply += chunk;
        yield chunk;
      }
    } catch (err) {
      if (reply !== '') throw err; // half an answer cannot be taken back
      const degraded = this.degrade(err, prepared, since(t));
      yield degraded.reply;
      return degraded;
    }
    return this.finish(tenant, session, prepared, reply, since(t));
  }

  private async prepare(tenant: string, session: string, dto: ChatDto, opts: ChatOptions): Promise<Prepared> {
    const started = performance.now();
    const deadline = this.jobs.deadline();
    const turnId = opts.idempotencyKey ?? randomUUID();
    // Read-your-writes covers what the tenant wrote before this request; the new turn is written alongside.
    const [minLogIds, written] = await Promise.all([
      this.store.positions(tenant, [this.keys.partition(tenant, session)]),
      this.turns.write(tenant, session, [{ role: 'user', content: dto.message, id: turnId, timestamp: Date.now() }], { user: dto.userId, userKey: opts.userKey, deadline }),
    ]);
    const [userTurn] = written.turns;
    const t = performance.now();
    let writeMs = 0;
    let retrieveMs = 0;
    // The prompt is the context endpoint's, for the same session (the new turn left out), with the message appended.
    const [, { result: retrieved }] = await Promise.all([
      written.stored?.then(() => (writeMs = since(started))),
      this.memories
        .retrieve(
          tenant,
          { query: dto.message, sessions: [session], k: dto.k, windowHours: dto.windowHours, mode: dto.mode },
          {
            minLogIds,
            deadline,
            exclude: [this.keys.turn(tenant, session, userTurn.seq)],
            assemble: { session, recentTurns: this.config.RECENT_TURNS, maxTokens: this.config.MAX_CONTEXT_TOKENS },
          },
        )
        .then((r) => ((retrieveMs = since(t)), r)),
    ]);
    const replyId = `${userTurn.turnId}:reply`;
    // A resent key (its turn is stored by now: the write was awaited above) must name the same message.
    if (userTurn.state !== 'new' && (await this.store.getTurn(tenant, session, userTurn.seq))?.content !== dto.message) {
      throw new IdempotencyKeyReusedError(userTurn.turnId);
    }
    const storedReply = userTurn.state === 'new' ? undefined : await this.storedTurn(tenant, session, replyId);
    const assemble = retrieved.timings.assembleMs;
    const context = retrieved.context!;
    return {
      started,
      deadline,
      userTurnId: userTurn.turnId,
      replyId,
      storedReply,
      retrieved,
      request: { question: dto.message, messages: context.messages, context: context.text, memories: retrieved.memories },
      timings: { write: writeMs, read: retrieveMs - assemble, assemble },
    };
  }

  private async storedTurn(tenant: string, session: string, turnId: string): Promise<string | undefined> {
    const seq = await this.store.seqOf(tenant, session, turnId);
    return seq === undefined ? undefined : (await this.store.getTurn(tenant, session, seq))?.content;
  }

  /**
   * When the LLM provider fails (after its retries), answer with the retrieved memories alone, say so,
   * and store nothing: a non-answer must not become a memory.
   */
  private degrade(err: unknown, p: Prepared, llm: number): ChatResponse {
    if (!(err instanceof ProviderError)) throw err;
    const lines = p.retrieved.memories.map((m) => `- (${m.role}) ${m.content}`);
    const reply = [`[LLM unavailable: ${err.kind}] The most relevant memories:`, ...(lines.length ? lines : ['(none stored)'])].join('\n');
    return this.response(reply, 'memories only (LLM unavailable)', p, { ...p.timings, llm, e2e: since(p.started) }, err.kind);
  }

  /**
   * Stores the reply, unless it is a non-answer ("nothing matches": it must not become a memory) or the turn it answers
   * was forgotten while the LLM answered (a DELETE of the session must not be undone by the reply): the client still
   * gets it.
   */
  private async finish(tenant: string, session: string, p: Prepared, reply: string, llm: number): Promise<ChatResponse> {
    const t = performance.now();
    if (!this.llm.isNonAnswer?.(reply)) {
      try {
        const written = await this.turns.write(tenant, session, [{ role: 'assistant', content: reply, id: p.replyId }], { deadline: p.deadline, answering: p.userTurnId });
        await written.stored;
      } catch (err) {
        if (!(err instanceof TurnForgottenError)) throw err;
      }
    }
    const replyWrite = since(t);
    const timings: ChatTimings = { ...p.timings, write: p.timings.write + replyWrite, llm, e2e: since(p.started) };
    for (const [operation, ms] of Object.entries(timings)) {
      this.metrics.observeOperation(operation as keyof ChatTimings, 'chat', ms / 1000);
    }
    return this.response(reply, p.storedReply === undefined ? this.llm.label : `${this.llm.label} (stored reply of a retried chat)`, p, timings);
  }

  private response(reply: string, responder: string, p: Prepared, timings: ChatTimings, degraded?: string): ChatResponse {
    const shown = new Set(p.retrieved.context!.included);
    return {
      reply,
      responder,
      memories: p.retrieved.memories.filter((m) => shown.has(m.key)).map(toMemoryHit),
      contextTokens: p.retrieved.context!.tokens,
      dropped: p.retrieved.context!.dropped,
      timings,
      ...(degraded ? { degraded } : {}),
    };
  }
}
