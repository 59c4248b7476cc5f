import type { ApiKeyGrant } from '@app/memory';
import { AccessPolicy } from '../auth/access-policy';
import { errorAnswer } from '../common/domain-exception.filter';
import type { ErrorAnswer } from '../common/error-code';
import { type DefaultJsonParser, parseJsonBody } from '../common/json-body-parser';
import type { AcceptedTurn } from './turn.dto';
import { TurnsBodyPipe } from './turns-body.pipe';
import { WriteTurnsService } from './write-turns.service';

/** A turn write as the API's main thread hands it over: authenticated, its scope and session checked, its body unread. */
export interface TurnWriteRequest {
  grant: ApiKeyGrant;
  session: string;
  /** With ?wait=true: the answer waits until the turns are searchable, or JOB_TIMEOUT_MS from when the request came. */
  deadline?: number;
  /** The body's bytes; none when the request had no body. */
  body?: Uint8Array;
}

/** The turns accepted, in request order, or the error answer (status, body, headers) made by errorAnswer. */
export type TurnWriteAnswer = { ok: true; turns: AcceptedTurn[] } | { ok: false; error: ErrorAnswer };

/**
 * The part of POST /v1/sessions/:id/turns whose cost grows with the body, run in the ingest thread (see IngestThread):
 * decode and parse the JSON, check the body's userId against the key, validate and transform the turns (schema, token
 * counts), accept them and enqueue their embed jobs. `cancelled` is asked before the body is parsed and before anything
 * is accepted: a request whose client has gone is dropped until then (undefined), and written in full after.
 */
export class TurnWriter {
  private readonly pipe = new TurnsBodyPipe();

  constructor(
    private readonly parse: DefaultJsonParser,
    private readonly policy: AccessPolicy,
    private readonly turns: WriteTurnsService,
  ) {}

  async write({ grant, session, deadline, body }: TurnWriteRequest, cancelled: () => boolean): Promise<TurnWriteAnswer | undefined> {
    if (cancelled()) return undefined;
    try {
      const parsed = body && parseJsonBody(body, this.parse);
      // The scope and the session were checked on the main thread, before the body was read.
      await this.policy.authorizeRequest(grant, 'write', {}, parsed);
      const { turns, userId } = await this.pipe.transform(parsed);
      if (cancelled()) return undefined;
      const written = await this.turns.write(grant.tenant, session, turns, { user: userId, userKey: grant.user !== undefined, deadline });
      await written.stored;
      return { ok: true, turns: written.turns.map(({ turnId, seq }) => ({ turnId, seq })) };
    } catch (err) {
      return { ok: false, error: errorAnswer(err) };
    }
  }
}
