import type { TurnWriteAnswer, TurnWriteRequest } from './turn-writer';

/** The name of the ingest thread's store connection (CLIENT LIST): its turn accepts run there. */
export const INGEST_CONNECTION = 'agent-memory:ingest';

/** What the ingest thread is started with. */
export interface IngestThreadInit {
  /** The thread's nice value (Linux): it gives the CPU to the API's event loop first. */
  nice: number;
}

/** From the API's main thread: a write, the cancellation of one whose client has gone, or the end. */
export type IngestRequest = { op: 'write'; id: number; write: TurnWriteRequest } | { op: 'cancel'; id: number } | { op: 'close' };

/** From the ingest thread: ready once its connections are up, then a write's answer (none for one it dropped). */
export type IngestReply = { op: 'ready' } | { op: 'answer'; id: number; answer?: TurnWriteAnswer };
