import { Document } from '@langchain/core/documents';
import { BaseRetriever, type BaseRetrieverInput } from '@langchain/core/retrievers';
import type { AgentMemoryClient, MemoryHit, SearchRequest } from '../client.js';

export interface AgentMemoryRetrieverInput extends BaseRetrieverInput {
  client: AgentMemoryClient;
  /** Every search field but the query: userId, sessionIds, k, mode, kinds, since, until, roles, tags, minScore. */
  search?: Omit<SearchRequest, 'query'>;
}

/** A LangChain retriever over agent-memory's search: each memory (a turn or a long-term memory) is a Document. */
export class AgentMemoryRetriever extends BaseRetriever<Omit<MemoryHit, 'content'>> {
  lc_namespace = ['agent_memory', 'retrievers'];
  private readonly client: AgentMemoryClient;
  private readonly search: Omit<SearchRequest, 'query'>;

  constructor({ client, search = {}, ...rest }: AgentMemoryRetrieverInput) {
    super(rest);
    this.client = client;
    this.search = search;
  }

  override async _getRelevantDocuments(query: string): Promise<Document<Omit<MemoryHit, 'content'>>[]> {
    const { memories } = await this.client.search({ ...this.search, query });
    return memories.map(({ content, ...metadata }) => new Document({ pageContent: content, metadata, id: metadata.turnId }));
  }
}
