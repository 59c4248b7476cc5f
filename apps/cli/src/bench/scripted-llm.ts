import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Words the scripted summary keeps of each turn, and in all (the newest): about the size of a model's summary. */
const SUMMARY_WORDS_PER_TURN = 12;
const SUMMARY_MAX_WORDS = 400;

/**
 * A stand-in for an LLM on the OpenAI chat-completions wire format, for benchmarking extraction without a model:
 * each turn the extractor sends states one fact (none with `facts: false`), and every candidate is added; a session
 * summary is extractive: the previous summary, then the first SUMMARY_WORDS_PER_TURN words of each new turn, cut to
 * its newest SUMMARY_MAX_WORDS words. Answers after `delayMs`, as a model would after its inference time, and
 * reports token usage as characters / 4.
 */
export class ScriptedLlm {
  private readonly server: Server;

  constructor(
    private readonly delayMs: number,
    private readonly options: { facts?: boolean } = {},
  ) {
    this.server = createServer((req, res) => {
      const parts: Buffer[] = [];
      req.on('data', (p: Buffer) => parts.push(p));
      req.on('end', () => {
        const body = JSON.parse(Buffer.concat(parts).toString('utf8')) as { messages: { content: string }[]; response_format?: { json_schema?: { name?: string } } };
        const input = body.messages.at(-1)?.content ?? '';
        const content = this.answer(body.response_format?.json_schema?.name, input);
        const usage = { prompt_tokens: Math.ceil(input.length / 4), completion_tokens: Math.ceil(content.length / 4), total_tokens: 0 };
        const json = JSON.stringify({ id: 'scripted', object: 'chat.completion', created: 0, model: 'scripted', choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }], usage });
        setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end(json), this.delayMs);
      });
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return this;
  }

  get baseURL(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1`;
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private answer(schema: string | undefined, input: string): string {
    if (schema === 'session_summary') {
      const { previousSummary, turns } = JSON.parse(input) as { previousSummary: string | null; turns: { content: string }[] };
      const added = turns.map((t) => t.content.split(/\s+/).slice(0, SUMMARY_WORDS_PER_TURN).join(' '));
      const words = [previousSummary ?? '', ...added].join(' ').split(/\s+/).filter(Boolean);
      return JSON.stringify({ summary: words.slice(-SUMMARY_MAX_WORDS).join(' ') });
    }
    if (schema === 'memory_facts') {
      if (this.options.facts === false) return JSON.stringify({ facts: [] });
      const { turns } = JSON.parse(input) as { turns: { id: string; content: string }[] };
      return JSON.stringify({ facts: turns.map((t) => ({ content: `The user said: ${t.content}`, type: 'fact', entities: [], sourceTurnIds: [t.id] })) });
    }
    if (schema === 'memory_decisions') {
      const { candidates } = JSON.parse(input) as { candidates: { candidate: number }[] };
      return JSON.stringify({ decisions: candidates.map((c) => ({ candidate: c.candidate, event: 'ADD', memoryId: null, content: null })) });
    }
    return 'scripted answer';
  }
}
