import { Inject, Injectable } from '@nestjs/common';
import type { LlmProvider } from '@app/memory';
import { KeySchema, LlmRequest, MemoryConfig, ProviderError, MemoryStore, Metrics, RetrieveResult } from '@app/memory';
import { LLM_PROVIDER } from '@app/memory/nest/tokens';
import { observeProvider } from '@app/memory/metrics/observe-provider';
import { JobGateway } from '../common/job-gateway';
import { toJobs } from '../write-turns/write-turns.service';
import { toMemoryView } from '../search-memories/memory-view';
import { ChatDto, ChatResponse, ChatTimings } from './chat.dto';

interface Prepared {
  started: number;
  replySeq: number;
  request: LlmRequest;
  retrieved: RetrieveResult;
  timings: Pick<ChatTimings, 'write' | 'read' | 'assemble'>;
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
    private readonly store: MemoryStore,
    private readonly keys: KeySchema,
    private readonly config: MemoryConfig,
    private readonly metrics: Metrics,
    @Inject(LLM_PROVIDER) private readonly llm: LlmProvider,
  ) {}

  get responder(): string {
    return this.llm.label;
  }

  async chat(tenant: string, session: string, dto: ChatDto): Promise<ChatResponse> {
    const prepared = await this.prepare(tenant, session, dto);
    const t = performance.now();
    try {
      const reply = await observeProvider(this.metrics, 'llm', this.llm.name, () => this.llm.complete(prepared.request));
      return await this.finish(tenant, session, prepared, reply, since(t));
    } catch (err) {
      return this.degrade(err, prepared, since(t));
    }
  }

  /** The same cycle with the reply streamed: yields text chunks, then returns the full response. */
  async *chatStream(tenant: string, session: string, dto: ChatDto): AsyncGenerator<string, ChatResponse> {
    const prepared = await this.prepare(tenant, session, dto);
    const t = performance.now();
    let reply = '';
    try {
      for await (const chunk of this.llm.stream(prepared.request)) {
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

  private async prepare(tenant: string, session: string, dto: ChatDto): Promise<Prepared> {
    const started = performance.now();
    const windowMs = (dto.windowHours ?? this.config.MEMORY_WINDOW_HOURS) * 3600_000;
    // The user turn and the reply are numbered together: one round trip, and the reply follows its question.
    const [first, minLogId] = await Promise.all([this.store.reserveSeq(tenant, session, 2), this.store.lastLogId()]);
    const [userTurn] = toJobs(tenant, session, first, [{ role: 'user', content: dto.message }]);

    const timed = async <T>(run: () => Promise<T>): Promise<[T, number]> => {
      const t = performance.now();
      return [await run(), since(t)];
    };
    const [[, write], [retrieved, retrieveMs]] = await Promise.all([
      timed(() => this.jobs.writeTurns([userTurn], false)),
      timed(() =>
        this.jobs.retrieve({
          tenant,
          sessions: [session],
          query: dto.message,
          mode: dto.mode,
          k: dto.k ?? this.config.TOP_K_MEMORIES,
          since: userTurn.timestamp - windowMs,
          minLogId,
          exclude: [this.keys.turn(tenant, session, userTurn.seq)],
          assemble: { session, recentTurns: this.config.RECENT_TURNS, maxTokens: this.config.MAX_CONTEXT_TOKENS },
        }),
      ),
    ]);
    const assemble = retrieved.timings.assembleMs;
    return {
      started,
      replySeq: first + 1,
      retrieved,
      request: { question: dto.message, context: retrieved.context?.text ?? '', memories: retrieved.memories },
      timings: { write, read: retrieveMs - assemble, assemble },
    };
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

  /** Stores the reply, unless it is a non-answer ("nothing matches"): a non-answer must not become a memory. */
  private async finish(tenant: string, session: string, p: Prepared, reply: string, llm: number): Promise<ChatResponse> {
    const t = performance.now();
    if (!this.llm.isNonAnswer?.(reply)) {
      await this.jobs.writeTurns(toJobs(tenant, session, p.replySeq, [{ role: 'assistant', content: reply }]), false);
    }
    const replyWrite = since(t);
    const timings: ChatTimings = { ...p.timings, write: p.timings.write + replyWrite, llm, e2e: since(p.started) };
    for (const [operation, ms] of Object.entries(timings)) {
      this.metrics.observeOperation(operation as keyof ChatTimings, ms / 1000);
    }
    return this.response(reply, this.llm.label, p, timings);
  }

  private response(reply: string, responder: string, p: Prepared, timings: ChatTimings, degraded?: string): ChatResponse {
    return {
      reply,
      responder,
      memories: p.retrieved.memories.map(toMemoryView),
      contextTokens: p.retrieved.context?.tokens ?? 0,
      dropped: p.retrieved.context?.dropped ?? 0,
      timings,
      ...(degraded ? { degraded } : {}),
    };
  }
}
