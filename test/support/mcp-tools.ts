import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

/** An MCP client of the API at `apiUrl` with `key`: calls a tool and gives its first text and whether it is an error. */
export async function mcpTools(apiUrl: string, key: string) {
  const client = new Client({ name: 'agent-memory-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${apiUrl}/mcp`), { requestInit: { headers: { authorization: `Bearer ${key}` } } }));
  const tool = async (name: string, args: Record<string, unknown>) => {
    const result = (await client.callTool({ name, arguments: args })) as { isError?: boolean; content: { text: string }[] };
    return { isError: result.isError ?? false, text: result.content[0].text };
  };
  return { tool, close: () => client.close() };
}
