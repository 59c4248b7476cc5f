import type { ProviderName } from '../config/memory-config';

export interface ChatTurn {
  role: 'user' | 'assistant' | 'system';
  content: string;
}

export interface LlmRequest {
  /** The user's current message. */
  question: string;
  /** The memory context as the context endpoint gives it: a system message with the memories, then the recent turns. */
  messages: ChatTurn[];
  /** The same context as markdown text (the extractive responder reads it). */
  context: string;
  /** The retrieved memories, best first (the extractive responder quotes from them). */
  memories: { role: string; content: string; similarity: number }[];
}

export interface LlmProvider {
  readonly name: ProviderName;
  /** Human label, e.g. 'offline extractive responder'. */
  readonly label: string;
  /** The whole answer; throws ProviderError when a remote call fails. */
  complete(req: LlmRequest): Promise<string>;
  /** The answer as it is produced, in token or segment chunks; joined they make the whole answer. */
  stream(req: LlmRequest): AsyncIterable<string>;
  /** True for a whole answer that only says there is nothing to answer from: the chat does not store it as a memory. */
  isNonAnswer?(reply: string): boolean;
}
