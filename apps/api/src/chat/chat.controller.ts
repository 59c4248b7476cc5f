import { BadRequestException, Body, Controller, Headers, HttpCode, Param, Post, Res } from '@nestjs/common';
import { ApiHeader, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../common/api-errors';
import { type ApiKeyGrant, QUEUES, TURN_ID_PATTERN } from '@app/memory';
import type { FastifyReply } from 'fastify';
import { SessionParams } from '../common/session-params.dto';
import { UsesQueues } from '../common/uses-queues.decorator';
import { Grant } from '../common/tenant.decorator';
import { ChatDto, ChatResponse } from './chat.dto';
import { ChatService } from './chat.service';
import { Access } from '../auth/access.decorator';

/** The key names the user turn, and with ':reply' appended the reply: both must fit a turn id. */
const MAX_KEY_CHARS = 100;

const sse = (event: string, data: unknown) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;

@ApiTags('chat')
@Controller('v1/sessions/:sessionId/chat')
export class ChatController {
  constructor(private readonly chat: ChatService) {}

  @Post()
  @Access('write', 'body')
  @UsesQueues(QUEUES.embed, QUEUES.retrieve)
  @HttpCode(200)
  @ApiOperation({ summary: 'One agent cycle: store, retrieve, assemble, call the LLM, store the reply' })
  @ApiProduces('application/json', 'text/event-stream')
  @ApiOkResponse({
    type: ChatResponse,
    description: 'JSON; or, with Accept: text/event-stream, `token` events ({text}) then a `done` event carrying this body (an `error` event if the LLM fails midway)',
  })
  @ApiErrors(409, 415, 422, 502, 504)
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: 'A chat retried with the same key stores its message and reply once' })
  async send(
    @Grant() { tenant, user: keyUser }: ApiKeyGrant,
    @Param() { sessionId }: SessionParams,
    @Body() dto: ChatDto,
    @Headers('accept') accept: string | undefined,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ChatResponse | void> {
    if (idempotencyKey !== undefined && (!TURN_ID_PATTERN.test(idempotencyKey) || idempotencyKey.length > MAX_KEY_CHARS)) {
      throw new BadRequestException(`Idempotency-Key must be 1 to ${MAX_KEY_CHARS} printable characters`);
    }
    const opts = { idempotencyKey, userKey: keyUser !== undefined };
    if (!accept?.includes('text/event-stream')) return this.chat.chat(tenant, sessionId, dto, opts);

    // Errors before the first chunk still go through the exception filter as plain HTTP errors.
    const stream = this.chat.chatStream(tenant, sessionId, dto, opts);
    let next = await stream.next();
    reply.hijack();
    reply.raw.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive' });
    try {
      while (!next.done) {
        reply.raw.write(sse('token', { text: next.value }));
        next = await stream.next();
      }
      reply.raw.write(sse('done', next.value));
    } catch (err) {
      reply.raw.write(sse('error', { message: (err as Error).message }));
    } finally {
      reply.raw.end();
    }
  }
}
