export * from './client.js';
export { AgentMemoryConnectionError, AgentMemoryError, AgentMemoryTimeoutError } from './errors.js';
export type { components, operations, paths } from './schema.js';
