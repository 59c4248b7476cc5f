import type OpenAI from 'openai';
import { RemoteProviderName, toProviderError } from '../embedding/openai-client';
import { ProviderError } from '../errors/provider.error';
import type { StructuredLlm, StructuredReply } from './structured-llm';

/** Structured output through the openai SDK: response_format json_schema, strict (OpenAI, Azure, compatible servers). */
export class OpenAiStructured implements StructuredLlm {
  readonly label: string;

  constructor(
    readonly name: RemoteProviderName,
    private readonly client: OpenAI,
    private readonly model: string,
  ) {
    this.label = `${name} structured output (${model})`;
  }

  async ask(instructions: string, input: string, schemaName: string, schema: Record<string, unknown>): Promise<StructuredReply> {
    let res: OpenAI.Chat.Completions.ChatCompletion;
    try {
      res = await this.client.chat.completions.create({
        model: this.model,
        temperature: 0,
        messages: [
          { role: 'system', content: instructions },
          { role: 'user', content: input },
        ],
        response_format: { type: 'json_schema', json_schema: { name: schemaName, strict: true, schema } },
      });
    } catch (err) {
      throw toProviderError(err, this.label);
    }
    const message = res.choices?.[0]?.message;
    const usage = { prompt: res.usage?.prompt_tokens ?? 0, completion: res.usage?.completion_tokens ?? 0 };
    if (typeof message?.content !== 'string') {
      // Never the answer's text in a message: it becomes a failed job's reason, kept in Redis, and may echo the turns.
      const why = message?.refusal ? `refused (${message.refusal.length} characters)` : 'no message content';
      throw new ProviderError('bad_response', `${this.label} returned a malformed answer: ${why}`);
    }
    try {
      return { value: JSON.parse(message.content) as unknown, usage };
    } catch {
      throw new ProviderError('bad_response', `${this.label} returned a malformed answer: not JSON (${message.content.length} characters)`);
    }
  }
}
