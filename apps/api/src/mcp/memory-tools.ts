import { BadRequestException, HttpException, Injectable, Logger, type Type, ValidationPipe } from '@nestjs/common';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { type ApiKeyGrant, MEMORY_KINDS, NotFoundError, ROLES, SEARCH_MODES } from '@app/memory';
import { AccessPolicy } from '../auth/access-policy';
import { ContextBody } from '../build-context/context.dto';
import { ContextService } from '../build-context/context.service';
import { domainStatus } from '../common/domain-exception.filter';
import { JobGateway } from '../common/job-gateway';
import { isRedisUnavailable } from '@app/memory/redis/redis-unavailable';
import { SessionParams } from '../common/session-params.dto';
import { VALIDATION } from '../common/validation';
import { UserParams } from '../common/user-params.dto';
import { ForgetMemoryService } from '../forget-memory/forget-memory.service';
import { ForgetSessionService } from '../forget-session/forget-session.service';
import { ListMemoriesQuery } from '../list-memories/list-memories.dto';
import { ListMemoriesService } from '../list-memories/list-memories.service';
import { MemoryHistoryService } from '../memory-history/memory-history.service';
import { MemoryParams } from '../memory-history/memory-params.dto';
import { ListSessionsQuery } from '../list-sessions/list-sessions.dto';
import { ListSessionsService } from '../list-sessions/list-sessions.service';
import { SessionSummaryService } from '../session-summary/session-summary.service';
import { MemorySearchService } from '../search-memories/memory-search.service';
import { SearchAllMemoriesBody } from '../search-memories/search-memories.dto';
import { TurnsBodyPipe } from '../write-turns/turns-body.pipe';
import { WriteTurnsService } from '../write-turns/write-turns.service';

/** A point in time, as on the REST API. */
const time = (what: string) => z.union([z.string(), z.number()]).optional().describe(`${what}: ISO 8601 (UTC unless it has an offset) or epoch ms`);
const ranking = {
  k: z.number().int().optional().describe('How many memories (default 10, at most 100)'),
  minScore: z.number().optional().describe('Leave out memories scoring below this (-1 to 1)'),
  mode: z.enum(SEARCH_MODES).optional().describe('How memories are ranked'),
  kinds: z.array(z.enum(MEMORY_KINDS)).optional().describe('turn: stored turns; memory: long-term memories extracted from them (default both)'),
};
const sessionId = z.string().describe('The session (conversation) id: letters, digits, _ and -, up to 64');

/**
 * The MCP tools: the REST API's use cases for one tenant, with the same validation (the REST DTOs check every
 * argument, so limits live in one place) and the same services. The zod schemas describe the arguments to clients
 * and, strict, refuse unknown ones as the REST API does (the SDK's default drops them silently).
 */
@Injectable()
export class MemoryTools {
  private readonly logger = new Logger('MCP');
  private readonly validation = new ValidationPipe(VALIDATION);
  private readonly turnsBody = new TurnsBodyPipe();

  constructor(
    private readonly turns: WriteTurnsService,
    private readonly jobs: JobGateway,
    private readonly memories: MemorySearchService,
    private readonly contexts: ContextService,
    private readonly summaries: SessionSummaryService,
    private readonly sessions: ListSessionsService,
    private readonly forgetting: ForgetSessionService,
    private readonly longTerm: ListMemoriesService,
    private readonly histories: MemoryHistoryService,
    private readonly forgettingMemories: ForgetMemoryService,
    private readonly access: AccessPolicy,
  ) {}

  /**
   * A server whose tools act for the key's tenant only (one per request: the transport is stateless). Each tool
   * first asks the AccessPolicy, as the REST route of its use case does: its scope, and a user key's user.
   */
  serverFor(grant: ApiKeyGrant): McpServer {
    const { tenant } = grant;
    const server = new McpServer({ name: 'agent-memory', version: '0.1.0' });

    server.registerTool(
      'store_turns',
      {
        title: 'Store conversation turns',
        description: 'Stores turns of a session (conversation) so they can be searched later. A turn id sent twice is stored once.',
        inputSchema: z.strictObject({
          sessionId,
          turns: z
            .array(
              z.strictObject({
                role: z.enum(ROLES),
                content: z.string(),
                id: z.string().optional().describe('Your id for the turn (any printable text up to 128 characters)'),
                timestamp: time('When it was said (default: now)'),
                tags: z.array(z.string()).optional(),
                metadata: z.record(z.string(), z.unknown()).optional(),
              }),
            )
            .describe('Up to 1000 turns, in order'),
          userId: z.string().optional().describe('The user the session belongs to (a session belongs to one user)'),
          wait: z.boolean().optional().describe('Answer once the turns are searchable (default true)'),
        }),
      },
      ({ sessionId: session, turns, userId, wait }) =>
        this.run(async () => {
          const { sessionId: checked } = await this.check(SessionParams, { sessionId: session });
          const user = await this.access.authorize(grant, 'write', { sessionId: checked, userId });
          const body = await this.turnsBody.transform({ turns, ...(user === undefined ? {} : { userId: user }) });
          const written = await this.turns.write(tenant, checked, body.turns, {
            user: body.userId,
            userKey: grant.user !== undefined,
            deadline: wait === false ? undefined : this.jobs.deadline(),
          });
          await written.stored;
          return { turns: written.turns.map(({ turnId, seq }) => ({ turnId, seq })) };
        }),
    );

    server.registerTool(
      'search_memory',
      {
        title: 'Search memory',
        description: "Finds the stored turns most related to a query, across the tenant's sessions, or one user's, or some sessions; all time unless since/until are given.",
        inputSchema: z.strictObject({
          query: z.string(),
          userId: z.string().optional().describe("Only this user's turns, across the user's sessions"),
          sessionIds: z.array(z.string()).optional().describe('Only these sessions'),
          since: time('Only turns at or after this time'),
          until: time('Only turns at or before this time'),
          roles: z.array(z.enum(ROLES)).optional(),
          tags: z.array(z.string()).optional().describe('Only turns carrying any of these tags'),
          ...ranking,
        }),
      },
      (args) =>
        this.run(async () => {
          const userId = await this.access.authorize(grant, 'read', args);
          return this.memories.searchAll(tenant, await this.check(SearchAllMemoriesBody, { ...args, ...(userId === undefined ? {} : { userId }) }));
        }),
    );

    server.registerTool(
      'get_context',
      {
        title: 'Get memory context',
        description:
          "The memory context for your next LLM call in a session: a system message with the session's summary and the relevant memories, then the recent turns, within maxTokens; append your new user message and send.",
        inputSchema: z.strictObject({
          sessionId,
          query: z.string().describe('The message about to be answered'),
          maxTokens: z.number().int().optional().describe('Token budget (o200k; default 4000)'),
          recentTurns: z.number().int().optional().describe("The session's latest turns to include (default 4)"),
          scope: z.enum(['session', 'user']).optional().describe("Memories from this session (default) or from all of its user's sessions"),
          includeSummary: z.boolean().optional().describe("Include the session's rolling summary when it has one (default true)"),
          ...ranking,
        }),
      },
      ({ sessionId: session, ...body }) =>
        this.run(async () => {
          const { sessionId: checked } = await this.check(SessionParams, { sessionId: session });
          await this.access.authorize(grant, 'read', { sessionId: checked });
          return this.contexts.build(tenant, checked, await this.check(ContextBody, body));
        }),
    );

    server.registerTool(
      'get_session_summary',
      {
        title: 'Get session summary',
        description:
          "A session's rolling summary of its turns before the recent window (written by the extractor; none with LLM_PROVIDER=local): the current version, the seqs it covers, and the versions kept.",
        inputSchema: z.strictObject({ sessionId }),
      },
      (args) =>
        this.run(async () => {
          const { sessionId: checked } = await this.check(SessionParams, args);
          await this.access.authorize(grant, 'read', { sessionId: checked });
          return this.summaries.summary(tenant, checked);
        }),
    );

    server.registerTool(
      'list_sessions',
      {
        title: 'List sessions',
        description: "Lists the tenant's sessions (or one user's), in id order, with turn counts and first and last activity; pass nextCursor as cursor for the next page.",
        inputSchema: z.strictObject({ userId: z.string().optional(), cursor: z.string().optional(), limit: z.number().int().optional().describe('1 to 500 (default 50)') }),
      },
      (args) =>
        this.run(async () => {
          const userId = await this.access.authorize(grant, 'read', args);
          return this.sessions.list(tenant, await this.check(ListSessionsQuery, { ...args, ...(userId === undefined ? {} : { userId }) }));
        }),
    );

    server.registerTool(
      'forget_session',
      {
        title: 'Forget a session',
        description: 'Deletes a session for good: its turns, its history, its vectors, and the turns still queued for it.',
        inputSchema: z.strictObject({ sessionId }),
        annotations: { destructiveHint: true, idempotentHint: true },
      },
      (args) =>
        this.run(async () => {
          const { sessionId: checked } = await this.check(SessionParams, args);
          await this.access.authorize(grant, 'write', { sessionId: checked });
          const result = await this.forgetting.forget(tenant, checked);
          if (!result) throw new NotFoundError(`session ${checked} does not exist`);
          return result;
        }),
    );
    server.registerTool(
      'list_memories',
      {
        title: 'List long-term memories',
        description:
          "Lists the long-term memories extracted from a user's turns (userId), or learnt from one session (sessionId), most recently changed first; empty when extraction is off (LLM_PROVIDER=local).",
        inputSchema: z.strictObject({
          userId: z.string().optional(),
          sessionId: sessionId.optional(),
          offset: z.number().int().optional(),
          limit: z.number().int().optional().describe('1 to 500 (default 50)'),
        }),
      },
      ({ userId, sessionId: session, ...page }) =>
        this.run(async () => {
          if ((userId === undefined) === (session === undefined)) throw new BadRequestException('give userId or sessionId');
          const { offset, limit } = await this.check(ListMemoriesQuery, page);
          await this.access.authorize(grant, 'read', { userId, sessionId: session });
          if (userId !== undefined) return this.longTerm.ofUser(tenant, (await this.check(UserParams, { userId })).userId, offset, limit);
          return this.longTerm.ofSession(tenant, (await this.check(SessionParams, { sessionId: session })).sessionId, offset, limit);
        }),
    );

    server.registerTool(
      'memory_history',
      {
        title: 'Memory history',
        description: 'How a long-term memory changed: its current version and the earlier ones, each with the time it stopped being true.',
        inputSchema: z.strictObject({ memoryId: z.string() }),
      },
      (args) =>
        this.run(async () => {
          const { memoryId } = await this.check(MemoryParams, args);
          await this.access.authorize(grant, 'read', { memoryId });
          return this.histories.history(tenant, memoryId);
        }),
    );

    server.registerTool(
      'forget_memory',
      {
        title: 'Forget a memory',
        description: 'Deletes one long-term memory and its history for good (the turns it came from stay).',
        inputSchema: z.strictObject({ memoryId: z.string() }),
        annotations: { destructiveHint: true, idempotentHint: true },
      },
      (args) =>
        this.run(async () => {
          const { memoryId } = await this.check(MemoryParams, args);
          await this.access.authorize(grant, 'write', { memoryId });
          return this.forgettingMemories.forget(tenant, memoryId);
        }),
    );
    return server;
  }

  /** The REST DTO's validation: unknown fields refused, values converted as on the REST API. */
  private async check<T>(metatype: Type<T>, value: unknown): Promise<T> {
    return (await this.validation.transform(value, { type: 'body', metatype })) as T;
  }

  /** A tool's answer as JSON text; a failure as a tool error with the message the REST API would give. */
  private async run(fn: () => Promise<unknown>): Promise<CallToolResult> {
    try {
      return { content: [{ type: 'text', text: JSON.stringify(await fn(), null, 2) }] };
    } catch (err) {
      return { isError: true, content: [{ type: 'text', text: this.describe(err) }] };
    }
  }

  private describe(err: unknown): string {
    if (err instanceof HttpException) {
      const body = err.getResponse();
      const message = typeof body === 'string' ? body : (body as { message?: string | string[] }).message;
      return Array.isArray(message) ? message.join('; ') : String(message ?? err.message);
    }
    if (isRedisUnavailable(err)) return 'Redis is unavailable; retry after 5 s';
    if (domainStatus(err) !== undefined) return (err as Error).message;
    this.logger.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    return 'internal error';
  }
}
