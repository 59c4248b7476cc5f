import { Controller, HttpCode, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBody, ApiExtraModels, ApiOkResponse, ApiOperation, ApiTags, getSchemaPath } from '@nestjs/swagger';
import { RouteConfig } from '@nestjs/platform-fastify';
import { ApiErrors } from '../common/api-errors';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { SessionParams } from '../common/session-params.dto';
import { UsesQueues } from '../common/uses-queues.decorator';
import { type ApiKeyGrant, QUEUES } from '@app/memory';
import { Grant } from '../common/tenant.decorator';
import { JobGateway } from '../common/job-gateway';
import { AcceptedTurns, TurnBatchDto, TurnDto, WriteTurnsQuery } from './turn.dto';
import { TimedOperation } from '../common/timed-operation';
import { AnsweredError } from '../common/answered-error';
import { RAW_BODY_ROUTE, RawBody } from '../common/raw-body';
import { IngestThread } from './ingest-thread';
import { BULK_WRITE_ROUTE } from './tenant-write-slots';
import { Access } from '../auth/access.decorator';

@ApiTags('turns')
@ApiExtraModels(TurnDto, TurnBatchDto)
@Controller('v1/sessions/:sessionId/turns')
export class WriteTurnsController {
  constructor(
    private readonly ingest: IngestThread,
    private readonly jobs: JobGateway,
  ) {}

  @Post()
  // The body's userId is checked in the ingest thread (TurnWriter), once parsed.
  @Access('write')
  @UsesQueues(QUEUES.embed)
  @HttpCode(202)
  @RouteConfig({ ...BULK_WRITE_ROUTE, ...RAW_BODY_ROUTE })
  @TimedOperation('write', (req) => ((req.query as WriteTurnsQuery).wait === 'true' ? 'turns_wait' : 'turns'))
  @ApiOperation({ summary: 'Store turns: 202 once queued, or 200 once searchable with ?wait=true; a resent id keeps its seq' })
  @ApiBody({
    schema: { oneOf: [{ $ref: getSchemaPath(TurnDto) }, { $ref: getSchemaPath(TurnBatchDto) }] },
    examples: {
      one: { summary: 'One turn', value: { role: 'user', content: 'My flight to Lisbon leaves on 12 May at 09:40.', userId: 'alice', tags: ['travel'] } },
      batch: {
        summary: 'A batch, with client ids and ISO timestamps',
        value: {
          userId: 'alice',
          turns: [
            { id: 'msg:1', role: 'user', content: 'I prefer aisle seats.', timestamp: '2024-05-01T09:30:00Z' },
            { id: 'msg:2', role: 'assistant', content: 'Noted: aisle seats from now on.', timestamp: '2024-05-01T09:30:05Z' },
          ],
        },
      },
    },
  })
  @ApiAcceptedResponse({ type: AcceptedTurns, description: 'Queued: durable, searchable shortly' })
  @ApiOkResponse({ type: AcceptedTurns, description: 'With ?wait=true: stored and searchable' })
  @ApiErrors(409, 413, 415, 502, 504)
  async write(
    @Grant() grant: ApiKeyGrant,
    @Param() { sessionId }: SessionParams,
    @Query() { wait }: WriteTurnsQuery,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<AcceptedTurns> {
    const deadline = wait === 'true' ? this.jobs.deadline() : undefined;
    if (deadline !== undefined) reply.status(200);
    // The connection closing before the answer is written: the client has gone.
    const gone = new AbortController();
    reply.raw.once('close', () => reply.raw.writableEnded || gone.abort());
    const body = request.body instanceof RawBody ? request.body.bytes : undefined;
    const answer = await this.ingest.write({ grant, session: sessionId, deadline, body }, gone.signal);
    if (!answer.ok) throw new AnsweredError(answer.error);
    return { turns: answer.turns };
  }
}
