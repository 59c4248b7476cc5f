import type { LogPosition } from '../change-log/change-log-reader';
import type { SearchCore } from '../in-process/search-core';

/** A snapshot read back with the change-log positions it covers, or why there is none to use. */
export type LoadedSnapshot = { core: SearchCore; positions: LogPosition[] } | { unusable: string };

/** Where a change-log follower saves its core, and reads it back at start instead of rebuilding from Redis. */
export interface CoreSnapshots {
  /** How often a changed core is saved. */
  readonly intervalMs: number;
  /** Where the snapshots are, for logs. */
  readonly description: string;
  save(core: SearchCore, positions: LogPosition[]): Promise<void>;
  load(): Promise<LoadedSnapshot>;
}
