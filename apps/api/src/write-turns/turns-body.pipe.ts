import { BadRequestException, Injectable, PipeTransform, ValidationPipe } from '@nestjs/common';
import { TurnBatchDto, TurnDto } from './turn.dto';
import { VALIDATION } from '../common/validation';

/** A write request: its turns, and the user its session belongs to (named once for the batch, or on the turns). */
export interface TurnsBody {
  turns: TurnDto[];
  userId?: string;
}

/** The body is either one turn or `{turns: [...], userId?}`; both come out as a list and at most one user. */
@Injectable()
export class TurnsBodyPipe implements PipeTransform<unknown, Promise<TurnsBody>> {
  private readonly validation = new ValidationPipe(VALIDATION);

  async transform(body: unknown): Promise<TurnsBody> {
    const { turns, userId } =
      body !== null && typeof body === 'object' && 'turns' in body
        ? ((await this.validation.transform(body, { type: 'body', metatype: TurnBatchDto })) as TurnBatchDto)
        : { turns: [(await this.validation.transform(body, { type: 'body', metatype: TurnDto })) as TurnDto], userId: undefined };
    const users = new Set([userId, ...turns.map((t) => t.userId)].filter((u): u is string => u !== undefined));
    if (users.size > 1) throw new BadRequestException(`one write names several users (${[...users].join(', ')}): a session belongs to one user`);
    return { turns, userId: users.values().next().value };
  }
}
