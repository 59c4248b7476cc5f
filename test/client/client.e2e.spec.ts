import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AIMessage, HumanMessage, SystemMessage, ToolMessage } from '@langchain/core/messages';
import { loadConfig } from '@app/memory/config/load-config';
import { AgentMemoryClient, AgentMemoryError, type ChatStreamEvent } from '../../libs/client/src';
import { AgentMemoryChatMessageHistory, AgentMemoryRetriever } from '../../libs/client/src/langchain';
import { repoRoot, type StackHandle, startStack } from '../../apps/cli/src/stack/stack';
import { RedisServer } from '../support/redis-server';

/** The client package against a private stack over real HTTP: every operation, its generated types, its packed form, LangChain. */
describe('@agent-memory/client e2e', () => {
  const redis = new RedisServer();
  const apiKey = 'sk-client-e2e-0123456789';
  let stack: StackHandle;
  let client: AgentMemoryClient;

  beforeAll(async () => {
    await redis.start();
    stack = await startStack({ config: loadConfig({ LOG_LEVEL: 'warn', API_KEYS: `acme:${apiKey}` }), redisUrl: redis.url, log: () => undefined });
    client = new AgentMemoryClient({ baseUrl: stack.apiUrl, apiKey });
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
    await redis.stop();
  });

  it('has types generated from exactly the OpenAPI document the API serves, and notices when they are not', () => {
    // The generator's check regenerates in memory (in a child: openapi-typescript loads ES modules jest cannot).
    const types = join(repoRoot(), 'libs/client/src/schema.ts');
    const check = () => spawnSync('node', ['dist/scripts/client-generate.js', '--check', stack.apiUrl], { cwd: repoRoot(), encoding: 'utf8' });
    expect(check()).toMatchObject({ status: 0, stdout: expect.stringContaining('matches') });
    const committed = readFileSync(types, 'utf8');
    try {
      writeFileSync(types, committed.replace('"/v1/memories/search"', '"/v1/memories/find"'));
      expect(check()).toMatchObject({ status: 1, stderr: expect.stringContaining('differs') });
    } finally {
      writeFileSync(types, committed);
    }
  });

  it('writes, reads, searches, builds a context and chats, plain and streamed', async () => {
    expect(await client.health()).toEqual({ status: 'ok' });
    expect(await client.ready()).toMatchObject({ ready: true, status: 'ready' });
    const written = await client.addTurns('trip', [{ role: 'user', content: 'My flight to Lisbon leaves at 7:40 on Friday.' }], { userId: 'alice', wait: true });
    expect(written.turns[0].turnId).toMatch(/^[0-9a-f-]{36}$/); // an id the client gave it
    expect((await client.history('trip')).turns.map((t) => t.content)).toEqual(['My flight to Lisbon leaves at 7:40 on Friday.']);
    expect((await client.search({ query: 'when does my flight leave', userId: 'alice' })).memories[0].content).toContain('7:40');
    expect((await client.sessionMemories('trip', { q: 'Lisbon flight' })).memories.map((m) => m.sessionId)).toEqual(['trip']);
    const context = await client.context('trip', { query: 'When is my flight?', recentTurns: 0 });
    expect(context.messages[0].content).toContain('7:40');
    // The offline stack writes no summary: the session has none.
    expect(await client.summary('trip')).toEqual({ sessionId: 'trip', current: null, watermark: 0, versions: [] });

    const chat = await client.chat('trip', { message: 'When does my flight leave?' });
    expect(chat.reply).toContain('7:40');
    const events: ChatStreamEvent[] = [];
    for await (const event of client.chatStream('trip', { message: 'Where am I flying to?' })) events.push(event);
    const done = events.at(-1) as Extract<ChatStreamEvent, { type: 'done' }>;
    expect(done.type).toBe('done');
    expect(events.slice(0, -1).map((e) => (e as { text: string }).text).join('')).toBe(done.response.reply);
    const asked = (await client.history('trip')).turns.filter((t) => t.role === 'user').map((t) => t.content);
    expect(asked).toEqual(['My flight to Lisbon leaves at 7:40 on Friday.', 'When does my flight leave?', 'Where am I flying to?']);

    expect((await client.sessions({ userId: 'alice' })).sessions.map((s) => s.sessionId)).toEqual(['trip']);
    expect(await client.userMemories('alice')).toMatchObject({ memories: [], extraction: false });
    expect(await client.sessionLongTermMemories('trip')).toMatchObject({ memories: [] });
  });

  it('stores a write once when its answer is lost and the client sends it again', async () => {
    let lost = 0;
    const losing = new AgentMemoryClient({
      baseUrl: stack.apiUrl,
      apiKey,
      // The first answer is lost after the API has acted on it, as on a dropped connection.
      fetch: async (input, init) => {
        const res = await fetch(input, init);
        if (lost++ === 0) throw new TypeError('fetch failed');
        return res;
      },
    });
    await losing.addTurns('lossy', [{ role: 'user', content: 'Remember the gate code 9051.' }], { wait: true });
    lost = 0;
    await losing.chat('lossy', { message: 'What is the gate code?' });
    expect(lost).toBe(2);
    expect((await client.history('lossy')).turns.map((t) => t.role)).toEqual(['user', 'user', 'assistant']);
  });

  it("throws typed errors carrying the API's code and message", async () => {
    const bad = (await client.search({ query: 'x', k: 1000 }).catch((e: unknown) => e)) as AgentMemoryError;
    expect(bad).toBeInstanceOf(AgentMemoryError);
    expect([bad.status, bad.code, bad.message]).toEqual([400, 'invalid_input', expect.stringMatching(/k must not be greater than 100/)]);
    const missing = (await client.memoryHistory('u.alice.0123456789abcdef').catch((e: unknown) => e)) as AgentMemoryError;
    expect([missing.status, missing.code]).toEqual([404, 'not_found']);
    const stranger = new AgentMemoryClient({ baseUrl: stack.apiUrl, apiKey: 'sk-unknown-0123456789' });
    expect(await stranger.sessions().catch((e: unknown) => e)).toMatchObject({ status: 401, code: 'unauthorized' });
  });

  it('issues a key bound to one user with the stack key (an admin one), which reaches only that user, and revokes it', async () => {
    const issued = await client.issueKey({ userId: 'carol', scopes: ['read'] });
    expect(issued).toMatchObject({ tenant: expect.any(String), userId: 'carol', scopes: ['read'] });
    const carol = new AgentMemoryClient({ baseUrl: stack.apiUrl, apiKey: issued.key });
    expect(await carol.sessions({ userId: 'alice' }).catch((e: unknown) => e)).toMatchObject({ status: 403, code: 'user_forbidden' });
    await client.revokeKey(issued.id);
    expect(await carol.sessions().catch((e: unknown) => e)).toMatchObject({ status: 401, code: 'unauthorized' });
  });

  it('forgets a turn, a session and a user', async () => {
    const { turns } = await client.addTurns('gone', [{ role: 'user', content: 'a' }, { role: 'user', content: 'b' }], { userId: 'bob', wait: true });
    expect(await client.forgetTurn('gone', turns[0].turnId)).toMatchObject({ turnId: turns[0].turnId });
    expect(await client.forgetSession('gone')).toEqual({ deleted: 1 });
    await client.addTurns('gone-2', [{ role: 'user', content: 'c' }], { userId: 'bob', wait: true });
    expect(await client.forgetUser('bob')).toMatchObject({ sessions: 1 });
    expect(await client.forgetMemory('u.bob.0123456789abcdef').catch((e: unknown) => e)).toMatchObject({ status: 404 });
  });

  it('keeps a LangChain chat message history in a session, and retrieves memories as LangChain documents', async () => {
    const history = new AgentMemoryChatMessageHistory({ client, sessionId: 'lc', userId: 'carol' });
    await history.addMessages([new SystemMessage('Be brief.'), new HumanMessage('My cat is called Miso.')]);
    await history.addMessage(new AIMessage('Noted: Miso.'));
    expect((await history.getMessages()).map((m) => [m.getType(), m.text])).toEqual([
      ['system', 'Be brief.'],
      ['human', 'My cat is called Miso.'],
      ['ai', 'Noted: Miso.'],
    ]);
    await expect(history.addMessage(new ToolMessage({ content: 'x', tool_call_id: 't' }))).rejects.toThrow(/not tool messages/);

    const retriever = new AgentMemoryRetriever({ client, search: { userId: 'carol', k: 2, roles: ['user'] } });
    const docs = await retriever.invoke("what is my cat's name");
    expect(docs.map((d) => [d.pageContent, d.metadata.sessionId, d.metadata.role])).toEqual([['My cat is called Miso.', 'lc', 'user']]);

    await history.clear();
    expect(await history.getMessages()).toEqual([]);
  });

  it('packs, installs into a project outside the repo, and works from ESM and CommonJS with its types', () => {
    const scratch = mkdtempSync(join(tmpdir(), 'agent-memory-client-'));
    try {
      const root = repoRoot();
      execFileSync('npm', ['pack', '--pack-destination', scratch], { cwd: join(root, 'libs/client'), stdio: 'pipe' });
      const tarball = readdirSync(scratch).find((f) => f.endsWith('.tgz'))!;
      writeFileSync(join(scratch, 'package.json'), JSON.stringify({ name: 'scratch', private: true, type: 'module' }));
      execFileSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', `./${tarball}`], { cwd: scratch, stdio: 'pipe' });
      const use = (mod: string) => `
        const client = new AgentMemoryClient({ baseUrl: ${JSON.stringify(stack.apiUrl)}, apiKey: ${JSON.stringify(apiKey)} });
        await client.addTurns('${mod}', [{ role: 'user', content: 'Packed from ${mod}.' }], { wait: true });
        const { turns } = await client.history('${mod}');
        console.log(JSON.stringify(turns.map((t) => t.content)));`;
      writeFileSync(join(scratch, 'esm.mjs'), `import { AgentMemoryClient } from '@agent-memory/client';\n${use('esm')}`);
      writeFileSync(join(scratch, 'cjs.cjs'), `const { AgentMemoryClient } = require('@agent-memory/client');\n(async () => {${use('cjs')}})();`);
      const run = (file: string) => JSON.parse(execFileSync('node', [file], { cwd: scratch, encoding: 'utf8' })) as string[];
      expect(run('esm.mjs')).toEqual(['Packed from esm.']);
      expect(run('cjs.cjs')).toEqual(['Packed from cjs.']);

      // Its declarations type-check a consumer (a wrong argument is a compile error).
      writeFileSync(join(scratch, 'typed.ts'), `import { AgentMemoryClient } from '@agent-memory/client';\nconst c = new AgentMemoryClient({ baseUrl: 'x' });\nvoid c.search({ query: 'q', k: 3 });\n// @ts-expect-error k is a number\nvoid c.search({ query: 'q', k: 'three' });\n`);
      const tsc = join(root, 'node_modules/.bin/tsc');
      execFileSync(tsc, ['--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--types', 'node', '--typeRoots', join(root, 'node_modules/@types'), 'typed.ts'], { cwd: scratch, stdio: 'pipe' });
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  }, 240_000);
});
