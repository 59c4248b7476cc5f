import { Controller, Delete, Param } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { Matches } from 'class-validator';
import { NotFoundError, TURN_ID_PATTERN } from '@app/memory';
import { ApiErrors } from '../common/api-errors';
import { SessionParams } from '../common/session-params.dto';
import { Tenant } from '../common/tenant.decorator';
import { type ForgottenTurn, ForgetTurnService } from './forget-turn.service';
import { TimedOperation } from '../common/timed-operation';
import { Access } from '../auth/access.decorator';

export class TurnParams extends SessionParams {
  @ApiProperty({ description: 'The id the turn was written with (URL-encoded)', example: 'msg:1' })
  @Matches(TURN_ID_PATTERN, { message: 'turnId must be 1 to 128 printable characters' })
  turnId: string;
}

export class ForgottenTurnView implements ForgottenTurn {
  @ApiProperty()
  turnId: string;

  @ApiProperty()
  seq: number;

  @ApiProperty({ enum: ['stored', 'queued'], description: 'stored: deleted from the store and the index; queued: it was not stored yet, and now never will be' })
  state: 'stored' | 'queued';
}

@ApiTags('turns')
@Controller('v1/sessions/:sessionId/turns/:turnId')
export class ForgetTurnController {
  constructor(private readonly turns: ForgetTurnService) {}

  @Delete()
  @Access('write')
  @TimedOperation('write', 'forget_turn')
  @ApiOperation({ summary: 'Forget one turn, in the store and in the index, whether stored or still queued' })
  @ApiOkResponse({ type: ForgottenTurnView })
  @ApiErrors(404)
  async forget(@Tenant() tenant: string, @Param() { sessionId, turnId }: TurnParams): Promise<ForgottenTurn> {
    const result = await this.turns.forget(tenant, sessionId, turnId);
    if (!result) throw new NotFoundError(`session ${sessionId} has no turn ${JSON.stringify(turnId)}`);
    return result;
  }
}
