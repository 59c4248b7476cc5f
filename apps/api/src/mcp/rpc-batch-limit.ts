import { LIMITS } from '../common/limits';

/** A JSON-RPC message calling a tool, as far as the limit needs to see it. */
interface ToolCall {
  method?: unknown;
  params?: { name?: unknown; arguments?: { turns?: unknown } };
}

/**
 * Why a POST to /mcp breaks the REST limits, or undefined: the limits hold per HTTP request however it is batched,
 * so a JSON-RPC batch may carry at most `rpcBatchMessages` messages and store at most `batchTurns` turns in all (50
 * store_turns calls of 1,000 turns each once stored 47,000 turns in one request, past the tenant's queue bound).
 */
export function rpcBatchLimitBroken(body: unknown): string | undefined {
  const messages = (Array.isArray(body) ? body : [body]) as (ToolCall | null)[];
  if (messages.length > LIMITS.rpcBatchMessages) return `a JSON-RPC batch may carry at most ${LIMITS.rpcBatchMessages} messages`;
  let turns = 0;
  for (const m of messages) {
    if (m?.method !== 'tools/call' || m.params?.name !== 'store_turns') continue;
    const sent = m.params.arguments?.turns;
    turns += Array.isArray(sent) ? sent.length : 0;
  }
  return turns > LIMITS.batchTurns ? `one request may store at most ${LIMITS.batchTurns} turns, however its JSON-RPC messages share them (${turns} sent)` : undefined;
}
