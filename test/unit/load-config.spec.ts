import { ConfigError } from '@app/memory/errors/config.error';
import { loadConfig } from '@app/memory/config/load-config';

describe('loadConfig', () => {
  it('runs offline with no variables at all', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ EMBEDDING_PROVIDER: 'local', LLM_PROVIDER: 'local', VECTOR_BACKEND: 'auto' });
    expect(c).toMatchObject({ MEMORY_WINDOW_HOURS: 0, TOP_K_MEMORIES: 10, MAX_CONTEXT_TOKENS: 4000, EMBEDDING_DIM: 1024 });
  });

  it('converts numbers and ignores unrelated variables', () => {
    const c = loadConfig({ TOP_K_MEMORIES: '7', MEMORY_WINDOW_HOURS: '0.5', PATH: '/bin' });
    expect(c.TOP_K_MEMORIES).toBe(7);
    expect(c.MEMORY_WINDOW_HOURS).toBe(0.5);
    expect(c).not.toHaveProperty('PATH');
  });

  it('names every bad variable', () => {
    const attempt = () => loadConfig({ TOP_K_MEMORIES: 'ten', VECTOR_BACKEND: 'faiss' });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(/TOP_K_MEMORIES="ten"/);
    expect(attempt).toThrow(/VECTOR_BACKEND="faiss"/);
  });

  it('asks for credentials only for the providers chosen', () => {
    expect(() => loadConfig({ LLM_PROVIDER: 'azure' })).toThrow(/AZURE_OPENAI_ENDPOINT/);
    expect(() => loadConfig({ EMBEDDING_PROVIDER: 'openai' })).toThrow(/OPENAI_API_KEY/);
    expect(() => loadConfig({ EMBEDDING_PROVIDER: 'openai-compatible' })).toThrow(/OPENAI_BASE_URL/);
    expect(loadConfig({ EMBEDDING_PROVIDER: 'openai', OPENAI_API_KEY: 'sk-test' }).OPENAI_API_KEY).toBe('sk-test');
  });

  it('has no reranker model by default, and validates the one chosen once: its URL, and a model for the Cohere/Jina format', () => {
    expect(loadConfig({}).RERANK_PROVIDER).toBe('none');
    expect(() => loadConfig({ RERANK_PROVIDER: 'tei' })).toThrow(/RERANK_URL/);
    expect(() => loadConfig({ RERANK_PROVIDER: 'tei', RERANK_URL: 'tei:8080' })).toThrow(/RERANK_URL/);
    expect(loadConfig({ RERANK_PROVIDER: 'tei', RERANK_URL: 'http://tei:8080' }).RERANK_URL).toBe('http://tei:8080');
    expect(() => loadConfig({ RERANK_PROVIDER: 'cohere', RERANK_URL: 'https://api.jina.ai' })).toThrow(/RERANK_MODEL/);
    expect(() => loadConfig({ RERANK_PROVIDER: 'jina' })).toThrow(/RERANK_PROVIDER/);
    expect(() => loadConfig({ RERANK_TIMEOUT_MS: '10' })).toThrow(/RERANK_TIMEOUT_MS/);
  });

  it('trusts X-Forwarded-For only from the proxies TRUST_PROXY names (off by default)', () => {
    expect(loadConfig({}).TRUST_PROXY).toBeUndefined();
    expect(loadConfig({ TRUST_PROXY: '10.0.0.0/8,127.0.0.1,::1' }).TRUST_PROXY).toBe('10.0.0.0/8,127.0.0.1,::1');
    for (const bad of ['true', '*', '10.0.0.0/8, 127.0.0.1', 'proxy.local']) expect(() => loadConfig({ TRUST_PROXY: bad })).toThrow(/TRUST_PROXY/);
  });
});
