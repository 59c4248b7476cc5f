import type { ErrorAnswer } from '../common/error-code';
import type { TurnWriteAnswer, TurnWriteRequest } from './turn-writer';

/** The name of the ingest thread's store connection (CLIENT LIST): its turn accepts run there. */
export const INGEST_CONNECTION = 'agent-memory:ingest';

/** What the ingest thread is started with. */
export interface IngestThreadInit {
  /** The thread's nice value (Linux): it gives the CPU to the API's event loop first. */
  nice: number;
}

/** A large JSON body of any route, parsed: its value, or the error answer (status, body, headers) made by errorAnswer. */
export type ParseAnswer = { ok: true; value: unknown } | { ok: false; error: ErrorAnswer };

/** From the API's main thread: a write, a large body to parse, the cancellation of a write whose client has gone, or the end. */
export type IngestRequest =
  | { op: 'write'; id: number; write: TurnWriteRequest }
  | { op: 'parse'; id: number; body: Uint8Array }
  | { op: 'cancel'; id: number }
  | { op: 'close' };

/** From the ingest thread: ready once its connections are up, then a write's answer (none for one it dropped) or a parse's. */
export type IngestReply = { op: 'ready' } | { op: 'answer'; id: number; answer?: TurnWriteAnswer | ParseAnswer };
