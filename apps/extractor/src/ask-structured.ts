import type { Metrics, StructuredLlm, StructuredReply } from '@app/memory';
import { observeProvider } from '@app/memory/metrics/observe-provider';

/** One structured-output call of the extractor's LLM, observed, with its token usage counted. */
export async function askStructured(
  llm: StructuredLlm,
  metrics: Metrics,
  call: { instructions: string; input: object; name: string; schema: Record<string, unknown> },
): Promise<StructuredReply> {
  const reply = await observeProvider(metrics, 'llm', llm.name, () => llm.ask(call.instructions, JSON.stringify(call.input), call.name, call.schema));
  metrics.countExtractionTokens('prompt', reply.usage.prompt);
  metrics.countExtractionTokens('completion', reply.usage.completion);
  return reply;
}
