import { Injectable, PipeTransform, ValidationPipe } from '@nestjs/common';
import { TurnBatchDto, TurnDto } from './turn.dto';
import { VALIDATION } from '../common/validation';

/** The body is either one turn or `{turns: [...]}`; both come out as a list. */
@Injectable()
export class TurnsBodyPipe implements PipeTransform<unknown, Promise<TurnDto[]>> {
  private readonly validation = new ValidationPipe(VALIDATION);

  async transform(body: unknown): Promise<TurnDto[]> {
    if (body !== null && typeof body === 'object' && 'turns' in body) {
      const batch = (await this.validation.transform(body, { type: 'body', metatype: TurnBatchDto })) as TurnBatchDto;
      return batch.turns;
    }
    return [(await this.validation.transform(body, { type: 'body', metatype: TurnDto })) as TurnDto];
  }
}
