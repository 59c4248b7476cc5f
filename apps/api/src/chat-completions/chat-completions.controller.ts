import { applyDecorators, Body, Controller, Get, Headers, HttpCode, Post, Res, UseFilters } from '@nestjs/common';
import { ApiBody, ApiHeader, ApiOkResponse, ApiOperation, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import type { ChatCompletion } from 'openai/resources/chat/completions';
import { type ApiKeyGrant, MemoryConfig, ProviderError, QUEUES } from '@app/memory';
import { Grant } from '../common/tenant.decorator';
import { Access } from '../auth/access.decorator';
import { AccessPolicy } from '../auth/access-policy';
import { UsesQueues } from '../common/uses-queues.decorator';
import { ChatCompletionsService } from './chat-completions.service';
import { conversationOf, parseCompletionRequest } from './completion-request';
import { OpenAiErrorFilter, upstreamError } from './openai-error.filter';

const data = (json: unknown) => `data: ${JSON.stringify(json)}\n\n`;

/** The proxy answers OpenAI's shapes, documented loosely: they are OpenAI's to define. */
const OPENAI_OBJECT = { type: 'object', additionalProperties: true } as const;
const OPENAI_ERROR = {
  type: 'object',
  properties: { error: { type: 'object', properties: { message: { type: 'string' }, type: { type: 'string' }, param: { type: 'string', nullable: true }, code: { type: 'string', nullable: true } } } },
} as const;
const OpenAiErrors = (...statuses: number[]) =>
  applyDecorators(...statuses.map((status) => ApiResponse({ status, description: "An error in OpenAI's shape", schema: OPENAI_ERROR })));

@ApiTags('openai')
@Controller('v1')
@UseFilters(OpenAiErrorFilter)
export class ChatCompletionsController {
  constructor(
    private readonly completions: ChatCompletionsService,
    private readonly config: MemoryConfig,
    private readonly access: AccessPolicy,
  ) {}

  @Post('chat/completions')
  @Access('write')
  @UsesQueues(QUEUES.embed, QUEUES.retrieve)
  @HttpCode(200)
  @ApiOperation({
    summary: 'OpenAI-compatible chat completions with memory: the memories are put in as a system message, the new user messages and the reply stored, the rest forwarded to the configured LLM unchanged',
  })
  @ApiBody({
    description: "An OpenAI chat completion request (tools, response_format and every other field pass through); the session is X-Session-Id, else metadata.session_id, else user",
    schema: {
      type: 'object',
      required: ['model', 'messages'],
      additionalProperties: true,
      properties: {
        model: { type: 'string', example: 'gpt-4o-mini' },
        messages: { type: 'array', items: OPENAI_OBJECT, example: [{ role: 'user', content: 'When does my flight leave?' }] },
        stream: { type: 'boolean', default: false },
        user: { type: 'string', example: 'alice', description: 'The user the session belongs to; names the session when nothing else does' },
      },
    },
  })
  @ApiProduces('application/json', 'text/event-stream')
  @ApiOkResponse({ description: "The upstream's chat completion; with stream: true, its chunks as server-sent events ending with [DONE]", schema: OPENAI_OBJECT })
  @OpenAiErrors(400, 401, 403, 409, 429, 501, 502, 503, 504)
  @ApiHeader({ name: 'X-Session-Id', required: false, description: 'The session the turns are stored in and memories retrieved from' })
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: 'Names the stored turns; without it a digest of the messages does, so a retried request stores nothing twice' })
  async create(
    @Grant() grant: ApiKeyGrant,
    @Body() body: unknown,
    @Headers('x-session-id') sessionId: string | undefined,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ChatCompletion | void> {
    const completion = parseCompletionRequest(body);
    const named = await conversationOf(completion, { sessionId, idempotencyKey }, this.config.EMBEDDING_MAX_INPUT_TOKENS);
    // The session comes from a header or the body, not the path: a user key reaches only its own user's sessions.
    const user = await this.access.authorize(grant, 'write', { userId: named.user, sessionId: named.session });
    const conversation = { ...named, user, userKey: grant.user !== undefined };
    const tenant = grant.tenant;
    // A caller that hangs up stops the upstream call.
    const aborted = new AbortController();
    reply.raw.once('close', () => reply.raw.writableFinished || aborted.abort());
    if (completion.stream !== true) return this.completions.complete(tenant, completion, conversation, aborted.signal);

    // Errors before the first chunk are plain HTTP errors (through the filters); later ones an error event, as OpenAI sends.
    const stream = this.completions.stream(tenant, completion, conversation, aborted.signal);
    let next = await stream.next();
    reply.hijack();
    reply.raw.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive' });
    try {
      for (; !next.done; next = await stream.next()) reply.raw.write(data(next.value));
      reply.raw.write('data: [DONE]\n\n');
    } catch (err) {
      const message = (err as Error).message;
      reply.raw.write(data(err instanceof ProviderError ? upstreamError(err).body : { error: { message, type: 'server_error', param: null, code: null } }));
    } finally {
      reply.raw.end();
    }
  }

  @Get('models')
  @Access('read')
  @ApiOperation({ summary: 'The configured LLM (LLM_MODEL), as an OpenAI model list' })
  @ApiOkResponse({ description: '{object: "list", data: [{id, object: "model", created, owned_by}]}', schema: OPENAI_OBJECT })
  @OpenAiErrors(401, 403, 429, 503)
  models(): { object: 'list'; data: { id: string; object: 'model'; created: number; owned_by: string }[] } {
    return { object: 'list', data: [{ id: this.config.LLM_MODEL, object: 'model', created: 0, owned_by: 'agent-memory' }] };
  }
}
