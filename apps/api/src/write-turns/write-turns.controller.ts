import { Body, Controller, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiTags, getSchemaPath, ApiExtraModels } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { SessionParams } from '../common/session-params.dto';
import { Tenant } from '../common/tenant.decorator';
import { TimedOperation } from '../common/timed-operation';
import { TurnBatchDto, TurnDto, WriteTurnsQuery } from './turn.dto';
import { TurnsBodyPipe } from './turns-body.pipe';
import { WriteTurnsService } from './write-turns.service';

@ApiTags('turns')
@ApiExtraModels(TurnDto, TurnBatchDto)
@Controller('v1/sessions/:sessionId/turns')
export class WriteTurnsController {
  constructor(private readonly turns: WriteTurnsService) {}

  @Post()
  @HttpCode(202)
  @TimedOperation('write', (req) => ((req.query as WriteTurnsQuery).wait === 'true' ? 'turns_wait' : 'turns'))
  @ApiOperation({ summary: 'Store turns: 202 once queued, or 200 once searchable with ?wait=true' })
  @ApiBody({ schema: { oneOf: [{ $ref: getSchemaPath(TurnDto) }, { $ref: getSchemaPath(TurnBatchDto) }] } })
  async write(
    @Tenant() tenant: string,
    @Param() { sessionId }: SessionParams,
    @Query() { wait }: WriteTurnsQuery,
    @Body(TurnsBodyPipe) turns: TurnDto[],
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    if (wait === 'true') {
      reply.status(200);
      return { turns: await this.turns.write(tenant, sessionId, turns) };
    }
    return { turns: await this.turns.accept(tenant, sessionId, turns) };
  }
}
