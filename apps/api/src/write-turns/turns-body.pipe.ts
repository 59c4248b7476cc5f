import { BadRequestException, Injectable, PipeTransform } from '@nestjs/common';
import { fitsEmbeddingInput, processConfig } from '@app/memory';
import { LIMITS } from '../common/limits';
import { isEpochMs, timestampMessage, toEpochMs } from '../common/timestamp';
import type { TurnDto } from './turn.dto';
import { schemaMessages, validateTurn, validateTurnBatch } from './turns-body.schema';

/** A write request: its turns, and the user its session belongs to (named once for the batch, or on the turns). */
export interface TurnsBody {
  turns: TurnDto[];
  userId?: string;
}

/** The body as the schema lets it through: timestamps still as sent. */
type RawTurn = Omit<TurnDto, 'timestamp'> & { timestamp?: number | string };

/**
 * The body is either one turn or `{turns: [...], userId?}`; both come out as a list and at most one user. The
 * compiled schema checks shapes and limits; the rest (timestamps, token counts, metadata bytes) is one pass here.
 */
@Injectable()
export class TurnsBodyPipe implements PipeTransform<unknown, Promise<TurnsBody>> {
  async transform(body: unknown): Promise<TurnsBody> {
    const batch = body !== null && typeof body === 'object' && 'turns' in body;
    const validate = batch ? validateTurnBatch : validateTurn;
    if (!validate(body)) throw new BadRequestException(schemaMessages(validate.errors));
    const raw = batch ? (body as { turns: RawTurn[]; userId?: string }) : { turns: [body as RawTurn], userId: undefined };
    const tokenLimit = processConfig().EMBEDDING_MAX_INPUT_TOKENS;
    const problems: string[] = [];
    const turns: TurnDto[] = [];
    for (const [i, t] of raw.turns.entries()) {
      const at = batch ? `turns.${i}.` : '';
      const timestamp = t.timestamp === undefined ? undefined : toEpochMs(t.timestamp);
      if (timestamp !== undefined && !isEpochMs(timestamp)) problems.push(timestampMessage(`${at}timestamp`));
      // The schema has bounded the length: tokens are counted in slices that yield to other requests.
      if (!(await fitsEmbeddingInput(t.content, tokenLimit))) problems.push(`${at}content must be at most ${tokenLimit} tokens of the embedding model (EMBEDDING_MAX_INPUT_TOKENS)`);
      if (t.metadata && Buffer.byteLength(JSON.stringify(t.metadata)) > LIMITS.metadataBytes) {
        problems.push(`${at}metadata must have at most ${LIMITS.metadataKeys} keys and ${LIMITS.metadataBytes} bytes of JSON`);
      }
      turns.push({ ...t, timestamp });
    }
    if (problems.length) throw new BadRequestException(problems);
    const users = new Set([raw.userId, ...turns.map((t) => t.userId)].filter((u): u is string => u !== undefined));
    if (users.size > 1) throw new BadRequestException(`one write names several users (${[...users].join(', ')}): a session belongs to one user`);
    return { turns, userId: users.values().next().value };
  }
}
