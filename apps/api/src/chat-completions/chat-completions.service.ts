import { Inject, Injectable, NotImplementedException } from '@nestjs/common';
import type OpenAI from 'openai';
import type { ChatCompletion, ChatCompletionChunk, ChatCompletionCreateParams } from 'openai/resources/chat/completions';
import { MemoryConfig, Metrics, toProviderError } from '@app/memory';
import { observeProvider } from '@app/memory/metrics/observe-provider';
import { ContextService } from '../build-context/context.service';
import { JobGateway } from '../common/job-gateway';
import { WriteTurnsService } from '../write-turns/write-turns.service';
import { type CompletionRequest, type Conversation } from './completion-request';
import { LLM_UPSTREAM } from './llm-upstream';

interface Prepared {
  tenant: string;
  conversation: Conversation;
  deadline: number;
  /** The request as the upstream gets it: the memory system message put in, everything else unchanged. */
  upstream: CompletionRequest;
  /** Settles once the new user turns are stored and searchable. */
  stored?: Promise<unknown>;
}

/**
 * The OpenAI-compatible memory proxy: retrieves the memories for an OpenAI chat request through the context use case,
 * puts them in as a system message, stores the new user messages, forwards the request to the configured LLM, and
 * stores its reply. What the upstream answers goes back unchanged; its failures as ProviderError (see OpenAiErrorFilter).
 */
@Injectable()
export class ChatCompletionsService {
  constructor(
    private readonly contexts: ContextService,
    private readonly turns: WriteTurnsService,
    private readonly jobs: JobGateway,
    private readonly config: MemoryConfig,
    private readonly metrics: Metrics,
    @Inject(LLM_UPSTREAM) private readonly llm: OpenAI | null,
  ) {}

  async complete(tenant: string, request: CompletionRequest, conversation: Conversation, signal: AbortSignal): Promise<ChatCompletion> {
    const p = await this.prepare(tenant, request, conversation);
    const answer = await observeProvider(this.metrics, 'llm', this.config.LLM_PROVIDER, () =>
      this.upstream().chat.completions.create({ ...(p.upstream as ChatCompletionCreateParams), stream: false }, { signal }).catch((err) => {
        throw toProviderError(err, 'upstream LLM');
      }),
    );
    await this.finish(p, answer.choices?.[0]?.message?.content);
    return answer;
  }

  /** The upstream's chunks as they come; the reply is stored before the generator returns. */
  async *stream(tenant: string, request: CompletionRequest, conversation: Conversation, signal: AbortSignal): AsyncGenerator<ChatCompletionChunk> {
    const p = await this.prepare(tenant, request, conversation);
    let reply = '';
    try {
      const chunks = await this.upstream().chat.completions.create({ ...(p.upstream as ChatCompletionCreateParams), stream: true }, { signal });
      for await (const chunk of chunks) {
        reply += chunk.choices?.find((c) => c.index === 0)?.delta?.content ?? '';
        yield chunk;
      }
    } catch (err) {
      throw toProviderError(err, 'upstream LLM');
    }
    await this.finish(p, reply);
  }

  private upstream(): OpenAI {
    if (!this.llm) throw new NotImplementedException('the OpenAI-compatible proxy forwards to a real LLM: set LLM_PROVIDER to openai, azure or openai-compatible');
    return this.llm;
  }

  /**
   * The context is built before the new messages are written, so they are not retrieved as memories of themselves;
   * the write then runs alongside the upstream call.
   */
  private async prepare(tenant: string, request: CompletionRequest, conversation: Conversation): Promise<Prepared> {
    this.upstream();
    const { session, user, userKey, newMessages, query, requestId } = conversation;
    const deadline = this.jobs.deadline();
    // The request carries the conversation itself: only the memory system message is taken, no recent turns.
    const context = await this.contexts.build(tenant, session, { query, recentTurns: 0 });
    const written = await this.turns.write(
      tenant,
      session,
      newMessages.map((content, i) => ({ role: 'user', content, id: `${requestId}:${i}` })),
      { user, userKey, deadline },
    );
    const memory = context.messages.filter((m) => m.role === 'system').map(({ role, content }) => ({ role, content }));
    // After the caller's own leading system (or developer) messages, which stay first.
    const lead = request.messages.findIndex((m) => m.role !== 'system' && m.role !== 'developer');
    const at = lead === -1 ? request.messages.length : lead;
    const messages = [...request.messages.slice(0, at), ...memory, ...request.messages.slice(at)];
    return { tenant, conversation, deadline, upstream: { ...request, messages }, stored: written.stored };
  }

  /** Stores the reply (a tool call without text is not one) once the user turns are; then the next request sees both. */
  private async finish(p: Prepared, reply: string | null | undefined): Promise<void> {
    const { session, requestId } = p.conversation;
    const replies = reply?.trim() ? [{ role: 'assistant' as const, content: reply, id: `${requestId}:reply` }] : [];
    const written = replies.length ? await this.turns.write(p.tenant, session, replies, { deadline: p.deadline }) : undefined;
    await Promise.all([p.stored, written?.stored]);
  }
}
