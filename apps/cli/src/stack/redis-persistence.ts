/**
 * redis-server arguments for the stack's own Redis. Persistent data is fsynced on every write (`appendfsync
 * always`): the API acknowledges a turn once its job is in Redis, and under `everysec` a killed redis-server can lose
 * up to ~2 s of acknowledged writes (docs/reliability.md, attack rerun).
 */
export function redisPersistenceArgs(persist = false): string[] {
  return persist ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no', '--save', ''];
}
