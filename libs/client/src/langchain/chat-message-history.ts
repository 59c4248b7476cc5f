import { BaseListChatMessageHistory } from '@langchain/core/chat_history';
import { AIMessage, type BaseMessage, HumanMessage, SystemMessage } from '@langchain/core/messages';
import type { AgentMemoryClient, TurnInput } from '../client.js';

export interface AgentMemoryChatMessageHistoryInput {
  client: AgentMemoryClient;
  sessionId: string;
  /** The user the session belongs to: its turns are then searchable by user. */
  userId?: string;
}

/** Turns are read a page at a time; the API's largest page. */
const PAGE = 500;
const ROLE_OF: Partial<Record<string, TurnInput['role']>> = { human: 'user', ai: 'assistant', system: 'system' };

/**
 * A LangChain chat message history kept in an agent-memory session: every message is a stored (and searchable)
 * turn. Human, AI and system messages are kept; other kinds (tool calls and results) have no turn role and are refused.
 */
export class AgentMemoryChatMessageHistory extends BaseListChatMessageHistory {
  lc_namespace = ['agent_memory', 'chat_history'];
  private readonly client: AgentMemoryClient;
  private readonly sessionId: string;
  private readonly userId?: string;

  constructor({ client, sessionId, userId }: AgentMemoryChatMessageHistoryInput) {
    super();
    this.client = client;
    this.sessionId = sessionId;
    this.userId = userId;
  }

  async getMessages(): Promise<BaseMessage[]> {
    const messages: BaseMessage[] = [];
    for (let offset = 0; ; offset += PAGE) {
      const page = await this.client.history(this.sessionId, { offset, limit: PAGE });
      for (const t of page.turns) {
        messages.push(t.role === 'user' ? new HumanMessage(t.content) : t.role === 'assistant' ? new AIMessage(t.content) : new SystemMessage(t.content));
      }
      if (offset + PAGE >= page.total) return messages;
    }
  }

  addMessage(message: BaseMessage): Promise<void> {
    return this.addMessages([message]);
  }

  /** One write for all of them, stored in order (wait: readable as soon as this resolves). */
  override async addMessages(messages: BaseMessage[]): Promise<void> {
    const turns = messages.map((m): TurnInput => {
      const role = ROLE_OF[m.getType()];
      if (!role) throw new Error(`agent-memory stores human, ai and system messages, not ${m.getType()} messages`);
      return { role, content: m.text };
    });
    if (turns.length) await this.client.addTurns(this.sessionId, turns, { userId: this.userId, wait: true });
  }

  override async clear(): Promise<void> {
    await this.client.forgetSession(this.sessionId).catch((err: { status?: number }) => {
      if (err.status !== 404) throw err;
    });
  }
}
