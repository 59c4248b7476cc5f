import { createHash } from 'node:crypto';
import { z } from 'zod';
import { fitsEmbeddingInput, ID_PATTERN, InvalidInputError, TURN_ID_PATTERN } from '@app/memory';
import { LIMITS } from '../common/limits';

/**
 * The fields of an OpenAI chat completion request the proxy reads; every other field (tools, response_format,
 * temperature, ...) passes through to the upstream unchanged.
 */
const MESSAGE = z.looseObject({ role: z.string(), content: z.unknown().optional() });
export const COMPLETION_REQUEST = z.looseObject({
  model: z.string().min(1),
  messages: z.array(MESSAGE).min(1),
  stream: z.boolean().optional(),
  user: z.string().optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
});
export type CompletionRequest = z.infer<typeof COMPLETION_REQUEST>;
type Message = z.infer<typeof MESSAGE>;

/** Where a request's turns go and which of them are new. */
export interface Conversation {
  session: string;
  user?: string;
  /** The request's key is bound to `user` (see WriteTurnsService.write); set by the controller, not the request. */
  userKey?: boolean;
  /** The user messages after the last assistant (or tool) message: what this request adds to the conversation. */
  newMessages: string[];
  /** What the memories are retrieved for: the new user messages, or else the last user message. */
  query: string;
  /** The new turns' ids are `${requestId}:<n>` and the reply's `${requestId}:reply`. */
  requestId: string;
}

/** The key names the turns, with ':reply' (or ':<n>') appended: both must fit a turn id. */
const MAX_KEY_CHARS = 100;

/** The text of a message: its content, or the text parts of a multi-part content. */
function textOf(message: Message): string {
  const { content } = message;
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .filter((p): p is { type: 'text'; text: string } => p?.type === 'text' && typeof p.text === 'string')
    .map((p) => p.text)
    .join('\n');
}

export function parseCompletionRequest(body: unknown): CompletionRequest {
  const parsed = COMPLETION_REQUEST.safeParse(body);
  if (!parsed.success) throw new InvalidInputError(`not a chat completion request: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

/**
 * The session comes from X-Session-Id, else metadata.session_id, else the request's `user` (one session per user);
 * the user from `user`. A request without an Idempotency-Key is named by a digest of its messages, which a retry
 * repeats: a retried request stores nothing twice.
 */
export async function conversationOf(request: CompletionRequest, headers: { sessionId?: string; idempotencyKey?: string }, maxInputTokens: number): Promise<Conversation> {
  const { user } = request;
  const session = headers.sessionId ?? (typeof request.metadata?.session_id === 'string' ? request.metadata.session_id : undefined) ?? user;
  if (session === undefined) throw new InvalidInputError('name the session: an X-Session-Id header, metadata.session_id, or user');
  if (!ID_PATTERN.test(session)) throw new InvalidInputError(`the session id must match ${ID_PATTERN.source}`);
  if (user !== undefined && !ID_PATTERN.test(user)) throw new InvalidInputError(`user must match ${ID_PATTERN.source}`);
  const key = headers.idempotencyKey;
  if (key !== undefined && (!TURN_ID_PATTERN.test(key) || key.length > MAX_KEY_CHARS)) {
    throw new InvalidInputError(`Idempotency-Key must be 1 to ${MAX_KEY_CHARS} printable characters`);
  }

  const { messages } = request;
  let start = messages.length;
  while (start > 0 && messages[start - 1].role === 'user') start--;
  const newMessages = messages.slice(start).map(textOf).filter((t) => t.trim() !== '');
  const lastUser = [...messages].reverse().find((m) => m.role === 'user');
  const query = newMessages.length ? newMessages.join('\n') : lastUser && textOf(lastUser);
  if (!query) throw new InvalidInputError('the messages hold no user message with text to retrieve memories for');
  for (const text of [...newMessages, query]) {
    if (text.length > LIMITS.contentChars || !(await fitsEmbeddingInput(text, maxInputTokens))) {
      throw new InvalidInputError(`a user message must be at most ${LIMITS.contentChars} characters and ${maxInputTokens} tokens of the embedding model`);
    }
  }
  const requestId = key ?? `oai-${createHash('sha256').update(JSON.stringify(messages)).digest('base64url').slice(0, 32)}`;
  return { session, user, newMessages, query, requestId };
}
