import { Body, Controller, Delete, Get, Logger, Post, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Tenant } from '../common/tenant.decorator';
import { MemoryTools } from './memory-tools';
import { QUEUES } from '@app/memory';
import { UsesQueues } from '../common/uses-queues.decorator';

/**
 * The Model Context Protocol over Streamable HTTP, stateless: every POST gets its own server and transport, so any
 * API replica can answer any request and nothing is kept between them. The global guards run first, so /mcp has the
 * REST API's API-key auth, tenant scoping, rate limit and load shedding. Answers are JSON, not SSE streams.
 */
@ApiExcludeController()
@Controller('mcp')
export class McpController {
  private readonly logger = new Logger('MCP');

  constructor(private readonly tools: MemoryTools) {}

  @Post()
  @UsesQueues(QUEUES.embed, QUEUES.retrieve)
  async handle(@Tenant() tenant: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply, @Body() body: unknown): Promise<void> {
    const refused = repeatedRequestId(body);
    if (refused !== undefined) {
      reply.status(400).send({ jsonrpc: '2.0', error: { code: -32600, message: `Invalid Request: a batch repeats request id ${JSON.stringify(refused)}; each request needs its own id` }, id: null });
      return;
    }
    const server = this.tools.serverFor(tenant);
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    reply.raw.on('close', () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    reply.hijack();
    try {
      await transport.handleRequest(request.raw, reply.raw, body);
    } catch (err) {
      // Past hijack() the exception filter cannot answer: do it here, in JSON-RPC's shape.
      this.logger.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
      if (!reply.raw.headersSent) reply.raw.writeHead(500, { 'content-type': 'application/json' });
      reply.raw.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32603, message: 'internal error' }, id: null }));
    }
  }

  /** A stateless server has no stream to open. */
  @Get()
  openStream(@Res() reply: FastifyReply): void {
    notAllowed(reply);
  }

  /** ... and no session to end. */
  @Delete()
  endSession(@Res() reply: FastifyReply): void {
    notAllowed(reply);
  }
}

function notAllowed(reply: FastifyReply): void {
  reply
    .status(405)
    .header('Allow', 'POST')
    .send({ jsonrpc: '2.0', error: { code: -32000, message: 'Method not allowed: this MCP server is stateless; POST JSON-RPC messages' }, id: null });
}

/**
 * The first request id repeated in a JSON-RPC batch: answers are matched to requests by id, so the SDK's transport
 * keeps one answer per id and the other request would go unanswered. (MCP 2025-06-18 dropped batches; earlier
 * clients may still send them.)
 */
function repeatedRequestId(body: unknown): string | number | undefined {
  if (!Array.isArray(body)) return undefined;
  const seen = new Set<unknown>();
  for (const message of body as { id?: unknown; method?: unknown }[]) {
    if (message?.method === undefined || message.id === undefined || message.id === null) continue; // notifications and responses
    if (seen.has(message.id)) return message.id as string | number;
    seen.add(message.id);
  }
  return undefined;
}
