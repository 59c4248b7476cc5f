import type OpenAI from 'openai';
import { RemoteProviderName, toProviderError } from '../embedding/openai-client';
import { ProviderError } from '../errors/provider.error';
import type { ChatTurn, LlmProvider, LlmRequest } from './llm-provider';

/** The memory context's messages (system prompt with memories, recent turns), then the user's message. */
const chatMessages = (req: LlmRequest): ChatTurn[] => [...req.messages, { role: 'user', content: req.question }];

/** Chat completions through the openai SDK (OpenAI, Azure OpenAI or any server speaking its wire format). */
export class OpenAiChat implements LlmProvider {
  readonly label: string;

  constructor(
    readonly name: RemoteProviderName,
    private readonly client: OpenAI,
    private readonly model: string,
    /** Longest silence allowed inside a stream (the SDK's own timeout stops at the response headers). */
    private readonly idleTimeoutMs: number,
  ) {
    this.label = `${name} chat (${model})`;
  }

  async complete(req: LlmRequest): Promise<string> {
    let content: unknown;
    try {
      const res = await this.client.chat.completions.create({ model: this.model, messages: chatMessages(req) });
      content = res.choices?.[0]?.message?.content;
    } catch (err) {
      throw toProviderError(err, this.label);
    }
    if (typeof content !== 'string') {
      throw new ProviderError('bad_response', `${this.label} returned a malformed response: no message content`);
    }
    return content;
  }

  async *stream(req: LlmRequest): AsyncIterable<string> {
    let stalled = false;
    let timer: NodeJS.Timeout | undefined;
    try {
      const chunks = await this.client.chat.completions.create({ model: this.model, messages: chatMessages(req), stream: true });
      // The clock runs only while waiting for the server, not while our consumer handles a chunk.
      const arm = () => (timer = setTimeout(() => ((stalled = true), chunks.controller.abort()), this.idleTimeoutMs));
      arm();
      for await (const chunk of chunks) {
        clearTimeout(timer);
        // Azure opens with a chunk that has no choices (content-filter results).
        const text = chunk.choices?.[0]?.delta?.content;
        if (text) yield text;
        arm();
      }
    } catch (err) {
      throw toProviderError(err, this.label);
    } finally {
      clearTimeout(timer);
    }
    // An aborted SDK stream just ends, so a stall is reported here rather than as a short answer.
    if (stalled) throw new ProviderError('timeout', `${this.label} stream stalled: nothing received for ${this.idleTimeoutMs} ms`);
  }
}
