import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RedisClient } from '../redis/create-redis';

export type ScriptArgs = (string | number | Buffer)[];

/** The store's Lua scripts as ioredis commands: keys first, then arguments (each script's header lists them). */
export interface StoreCommands {
  memAccept(...args: ScriptArgs): Promise<(number | string)[]>;
  memRegister(...args: ScriptArgs): Promise<null>;
  memRegisterUser(...args: ScriptArgs): Promise<null>;
  memUnregister(...args: ScriptArgs): Promise<null>;
  memUnregisterUser(...args: ScriptArgs): Promise<null>;
  memWriteTurn(...args: ScriptArgs): Promise<[number, string]>;
  memAppendLog(...args: ScriptArgs): Promise<string>;
  memRelease(...args: ScriptArgs): Promise<null>;
  memReserve(...args: ScriptArgs): Promise<[number, number]>;
  memUnaccept(...args: ScriptArgs): Promise<number>;
  memDeleteSession(...args: ScriptArgs): Promise<(number | string)[]>;
  memDeleteTurn(...args: ScriptArgs): Promise<[number, string?]>;
  memApplyMemories(...args: ScriptArgs): Promise<number[]>;
  memForgetMemories(...args: ScriptArgs): Promise<string[]>;
  memDeleteMemory(...args: ScriptArgs): Promise<number>;
  memMigrateSession(...args: ScriptArgs): Promise<number>;
  memBeginReindex(...args: ScriptArgs): Promise<(number | string)[]>;
  memReindexProgress(...args: ScriptArgs): Promise<number>;
  memEndReindex(...args: ScriptArgs): Promise<string | null>;
  memSetVectors(...args: ScriptArgs): Promise<number>;
  memWriteSummary(...args: ScriptArgs): Promise<number>;
  memRenewLease(...args: ScriptArgs): Promise<number>;
  memReleaseLease(...args: ScriptArgs): Promise<number>;
}

/**
 * Each command's script (in lua/) and key count. Key counts are fixed (the optional user index has a variant):
 * auto-pipelining groups a script by its first argument, and a leading key count once sent cluster scripts to the
 * wrong node.
 */
const COMMANDS: Record<keyof StoreCommands, { script: string; keys: number }> = {
  memAccept: { script: 'accept', keys: 5 },
  memRegister: { script: 'register', keys: 3 },
  memRegisterUser: { script: 'register', keys: 4 },
  memUnregister: { script: 'unregister', keys: 2 },
  memUnregisterUser: { script: 'unregister', keys: 3 },
  memWriteTurn: { script: 'write-turn', keys: 6 },
  memAppendLog: { script: 'append-log', keys: 2 },
  memRelease: { script: 'release', keys: 1 },
  memReserve: { script: 'reserve', keys: 1 },
  memUnaccept: { script: 'unaccept', keys: 2 },
  memDeleteSession: { script: 'delete-session', keys: 8 },
  memDeleteTurn: { script: 'delete-turn', keys: 6 },
  memApplyMemories: { script: 'apply-memories', keys: 4 },
  memForgetMemories: { script: 'forget-memories', keys: 4 },
  memDeleteMemory: { script: 'delete-memory', keys: 4 },
  memMigrateSession: { script: 'migrate-session', keys: 10 },
  memBeginReindex: { script: 'begin-reindex', keys: 1 },
  memReindexProgress: { script: 'reindex-progress', keys: 1 },
  memEndReindex: { script: 'end-reindex', keys: 1 },
  memSetVectors: { script: 'set-vectors', keys: 1 },
  memWriteSummary: { script: 'write-summary', keys: 3 },
  memRenewLease: { script: 'renew-lease', keys: 1 },
  memReleaseLease: { script: 'release-lease', keys: 1 },
};

/** Read once, when the module loads: lua/ sits beside this file in the sources and in dist (the build copies it). */
const DEFINITIONS = Object.entries(COMMANDS).map(([name, { script, keys }]) => ({
  name,
  numberOfKeys: keys,
  lua: readFileSync(join(__dirname, 'lua', `${script}.lua`), 'utf8'),
}));

/** Defines the store's commands on a client (again on a client that has them: harmless) and types it with them. */
export function withStoreCommands<R extends RedisClient>(redis: R): R & StoreCommands {
  for (const { name, numberOfKeys, lua } of DEFINITIONS) redis.defineCommand(name, { numberOfKeys, lua });
  return redis as R & StoreCommands;
}
