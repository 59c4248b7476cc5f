import 'reflect-metadata';
import fc from 'fast-check';
import Redis from 'ioredis';
import { KeySchema } from '@app/memory/redis/key-schema';
import { MemoryStore } from '@app/memory/store/memory-store';
import { RediSearchIndex, schemaDifferences, vectorParamsReported } from '@app/memory/vector/redisearch/redisearch-index';
import { STOP_WORDS } from '@app/memory/vector/text-terms';
import { SearchReplyError } from '@app/memory/errors/search-reply.error';
import {
  buildFilter, buildKnnArgs, buildTextArgs, escapeTag, parseKnnReply, parseTextReply, textClause,
} from '@app/memory/vector/redisearch/redisearch-query';
import { MAX_QUERY_WORDS } from '@app/memory/vector/text-terms';
import { compareStreamIds } from '@app/memory/vector/change-log/stream-id';
import { testConfig } from '../support/vector-fixture';

describe('RediSearch query building (no server needed)', () => {
  it('escapes every TAG metacharacter and leaves letters, digits and _ alone', () => {
    expect(escapeTag('a*')).toBe('a\\*');
    expect(escapeTag('{x}')).toBe('\\{x\\}');
    expect(escapeTag('a|b')).toBe('a\\|b');
    expect(escapeTag('@t:v')).toBe('\\@t\\:v');
    expect(escapeTag(`"q" 'q'`)).toBe(`\\"q\\"\\ \\'q\\'`);
    expect(escapeTag('my-session_1')).toBe('my\\-session_1');
    expect(escapeTag('naïve日本語')).toBe('naïve日本語');
    expect(escapeTag('a\u0000b')).toBe('a\\\u0000b');
    expect(escapeTag('back\\slash,comma.')).toBe('back\\\\slash\\,comma\\.');
  });

  it('escapes reversibly: removing each escaping backslash gives the value back, and no metacharacter stays bare', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        const escaped = escapeTag(s);
        expect(escaped.replace(/\\([\s\S])/gu, '$1')).toBe(s);
        expect(escaped.replace(/\\[\s\S]/gu, '')).toMatch(/^[\p{L}\p{N}_]*$/u);
      }),
    );
  });

  it('builds the pre-filter from tenant, sessions, users, window, roles and tags, every TAG value escaped', () => {
    expect(buildFilter({ tenant: 't-1' })).toBe('(@tenant:{t\\-1})');
    expect(buildFilter({ tenant: 't', sessions: ['a', 'b-2'], since: 10, until: 20, roles: ['user'] })).toBe(
      '(@tenant:{t} @session:{a|b\\-2} @timestamp:[10 20] @role:{user})',
    );
    expect(buildFilter({ tenant: 't', users: ['u-1', 'u_2'], roles: ['user', 'assistant'], tags: ['a.b', 'src:web/x'] })).toBe(
      '(@tenant:{t} @user:{u\\-1|u_2} @role:{user|assistant} @tags:{a\\.b|src\\:web\\/x})',
    );
    expect(buildFilter({ tenant: 't', since: 5 })).toBe('(@tenant:{t} @timestamp:[5 +inf])');
    // Turns carry no kind (stores from before memories need no migration): a search of turns is "not a memory".
    expect(buildFilter({ tenant: 't', kinds: ['memory'] })).toBe('(@tenant:{t} @kind:{memory})');
    expect(buildFilter({ tenant: 't', kinds: ['turn'] })).toBe('(@tenant:{t} -@kind:{memory})');
    expect(buildFilter({ tenant: 't', kinds: ['turn', 'memory'] })).toBe('(@tenant:{t})');
    expect(buildFilter({ tenant: 't', until: 5 })).toBe('(@tenant:{t} @timestamp:[-inf 5])');
  });

  // What the re-rank reads: never the content, metadata or embedding (the retriever reads the kept hits' turns after).
  const briefFields = ['session', 'seq', 'timestamp', 'event_at', 'speaker', 'kind'];

  it("builds an FT.SEARCH filtered KNN query with PARAMS, RETURN of the score and the turn's brief, SORTBY, LIMIT, TIMEOUT and DIALECT 2", () => {
    const vector = new Float32Array([1, 0.5]);
    const args = buildKnnArgs('mem-idx', { tenant: 't', sessions: ['s'], k: 7, vector }, 50, 128, 900);
    expect(args).toEqual([
      'mem-idx', '(@tenant:{t} @session:{s})=>[KNN $k @embedding $vec EF_RUNTIME $ef AS score]',
      'PARAMS', 6, 'k', 50, 'vec', Buffer.from(vector.buffer), 'ef', 128,
      'RETURN', 7, 'score', ...briefFields, 'SORTBY', 'score', 'ASC', 'LIMIT', 0, 50, 'TIMEOUT', 900, 'DIALECT', 2,
    ]);
    expect(args).not.toContain('embedding');
  });

  it("builds a BM25 full-text query under the same filter, any of the words, returning the turns' briefs, with TIMEOUT and DIALECT 2", () => {
    const args = buildTextArgs('mem-idx', { tenant: 't', sessions: ['s'], roles: ['user'], k: 7, text: 'When did Dana plant the tomatoes?' }, 50, 900);
    expect(args).toEqual([
      'mem-idx', '(@tenant:{t} @session:{s} @role:{user}) @content|context:(dana|plant|tomatoes)',
      'WITHSCORES', 'RETURN', 6, ...briefFields, 'SCORER', 'BM25', 'LIMIT', 0, 50, 'TIMEOUT', 900, 'DIALECT', 2,
    ]);
    expect(buildTextArgs('mem-idx', { tenant: 't', k: 7, text: 'what is it? -- | *' }, 50, 900)).toBeUndefined();
  });

  it('lets no query syntax of the user text through: only letters and digits reach the content clause', () => {
    const hostile = [
      '@tenant:{other} | @session:{*}', '-foo* %bar% ~baz "exact phrase"', '=>[KNN 100 @embedding $vec AS score]',
      '(a) | (b) => { $weight: 5.0; }', 'x\\y \u0000 {}[]<>', '@content:(a|b) -@role:{user}', "it's 2023's best—café naïve 日本語",
      '$vec $k $ef', 'w:* INKEYS 1 mem:x', ')))((( ]]] }}}',
    ];
    for (const text of hostile) {
      const clause = textClause(text);
      if (clause === undefined) continue;
      const inner = /^@content\|context:\((.*)\)$/.exec(clause)![1];
      for (const term of inner.split('|')) expect(term).toMatch(/^[\p{L}\p{N}]+$/u);
    }
    expect(textClause("it's 2023's best—café naïve 日本語")).toBe('@content|context:(s|2023|best|café|naïve|日本語)');
    expect(textClause('@tenant:{other} | @session:{*}')).toBe('@content|context:(tenant|other|session)');
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        const clause = textClause(text);
        if (clause !== undefined) expect(clause).toMatch(/^@content\|context:\([\p{L}\p{N}]+(\|[\p{L}\p{N}]+)*\)$/u);
      }),
    );
  });

  it('searches at most MAX_QUERY_WORDS distinct words of a long query', () => {
    const text = Array.from({ length: 500 }, (_, i) => `word${i} word${i}`).join(' ');
    expect(/\((.*)\)/.exec(textClause(text)!)![1].split('|')).toHaveLength(MAX_QUERY_WORDS);
  });

  // A turn's brief as RETURN gives it: name-value pairs, absent fields (event_at, kind here) left out.
  const hash = (seq: number) => ['session', 's', 'seq', String(seq), 'timestamp', '1000'];
  const brief = (seq: number) => ({ session: 's', seq, timestamp: 1000, memory: false });

  it('parses KNN and full-text replies into keys with similarity = 1 - distance, or the BM25 score, and the briefs returned with them', () => {
    const knn = [2, 'mem:t:s:turn:2', ['score', '0.25', ...hash(2)], 'mem:t:s:turn:1', [...hash(1), 'score', '0.5']];
    expect(parseKnnReply(knn)).toEqual([
      { key: 'mem:t:s:turn:2', similarity: 0.75, brief: brief(2) },
      { key: 'mem:t:s:turn:1', similarity: 0.5, brief: brief(1) },
    ]);
    expect(parseKnnReply([0])).toEqual([]);
    expect(parseTextReply([2, 'mem:t:s:turn:2', '3.5', hash(2), 'mem:t:s:turn:1', '1.25', hash(1)])).toEqual([
      { key: 'mem:t:s:turn:2', similarity: 3.5, brief: brief(2) },
      { key: 'mem:t:s:turn:1', similarity: 1.25, brief: brief(1) },
    ]);
    // The date the content names and its speaker label, when the hash has them.
    expect(parseTextReply([1, 'mem:t:s:turn:3', '2', [...hash(3), 'event_at', '500', 'speaker', 'Ana']])[0].brief).toEqual({ ...brief(3), eventAt: 500, speaker: 'Ana' });
    // An extracted memory of a user: no session.
    const memory = ['seq', '0', 'timestamp', '1000', 'kind', 'memory'];
    expect(parseKnnReply([1, 'mem:t:u:alice:memory:m-1', ['score', '0.2', ...memory]])[0].brief).toEqual({ session: '', seq: 0, timestamp: 1000, memory: true });
  });

  it('leaves out a document deleted while the query ran: a null key, null fields, or fields that are no turn any more', () => {
    expect(parseTextReply([3, null, null, null, 'k', '1', null, 'mem:t:s:turn:1', '1', hash(1)])).toEqual([
      { key: 'mem:t:s:turn:1', similarity: 1, brief: brief(1) },
    ]);
    expect(parseKnnReply([3, null, null, 'k', null, 'j', ['score', '0.1'], 'mem:t:s:turn:1', ['score', '0.5', ...hash(1)]])).toEqual([
      { key: 'mem:t:s:turn:1', similarity: 0.5, brief: brief(1) },
    ]);
  });

  it('treats a reply that is not a count followed by results as an error, never as no hits', () => {
    const failure = (parse: (r: unknown) => unknown, reply: unknown) => {
      try {
        parse(reply);
      } catch (err) {
        expect(err).toBeInstanceOf(SearchReplyError);
        return (err as SearchReplyError).reason;
      }
      throw new Error(`parsed ${JSON.stringify(reply)}`);
    };
    // ON_TIMEOUT FAIL on RediSearch 2.6: the array holds the message instead of a count.
    expect(failure(parseKnnReply, ['Timeout limit was reached'])).toBe('timeout');
    expect(failure(parseTextReply, ['Timeout limit was reached'])).toBe('timeout');
    const knnBad = [[], 'OK', null, 3, ['3', 'k', ['score', '0.1']], [1, 'k'], [1, 'k', ['other', '1']], [1, 'k', ['score', 'x']], [1, 7, ['score', '0.1']],
      [1, 'k', ['score']], [1, 'k', 'score 0.1']];
    for (const reply of knnBad) expect(failure(parseKnnReply, reply)).toBe('malformed');
    // The NOCONTENT shape (no fields) is malformed now that the turns are returned.
    for (const reply of [[1, 'k'], [1, 'k', '1'], [1, 'k', 'not a number', []], [1, 'k', ['1'], []], [1, 'k', 1, []], [1, 'k', '1', ['content']], [2, 'k', '3.5', 'j', '1.25']]) {
      expect(failure(parseTextReply, reply)).toBe('malformed');
    }
  });

  describe('index schema', () => {
    const redis = new Redis({ lazyConnect: true });
    const index = new RediSearchIndex({
      config: testConfig({ EMBEDDING_DIM: 1536, HNSW_M: 16, HNSW_EF_CONSTRUCTION: 200, HNSW_EF_RUNTIME: 64 }),
      redis,
      store: new MemoryStore(redis, new KeySchema('mem', 4)),
    });
    afterAll(() => redis.disconnect());

    it('creates the documented FT.CREATE schema', () => {
      expect(index.createArgs()).toEqual([
        'mem-idx-v2', 'ON', 'HASH', 'PREFIX', 1, 'mem:', 'STOPWORDS', STOP_WORDS.size, ...STOP_WORDS, 'SCHEMA',
        'tenant', 'TAG', 'CASESENSITIVE', 'session', 'TAG', 'CASESENSITIVE', 'user', 'TAG', 'CASESENSITIVE', 'tags', 'TAG', 'CASESENSITIVE', 'role', 'TAG',
        'timestamp', 'NUMERIC', 'SORTABLE', 'content', 'TEXT',
        'embedding', 'VECTOR', 'HNSW', 12, 'TYPE', 'FLOAT32', 'DIM', 1536, 'DISTANCE_METRIC', 'COSINE', 'M', 16, 'EF_CONSTRUCTION', 200, 'EF_RUNTIME', 64,
        'kind', 'TAG', 'context', 'TEXT', 'WEIGHT', '0.5', 'event_at', 'NUMERIC',
      ]);
    });

    // FT.INFO as RediSearch 2.6/2.8 replies for the schema above (vector attributes carry no DIM there).
    const info = (prefix: string, timestampType = 'NUMERIC'): { index_definition: unknown[]; stopwords_list?: string[]; attributes: unknown[][] } => ({
      index_definition: ['key_type', 'HASH', 'prefixes', [prefix], 'default_score', '1'],
      stopwords_list: [...STOP_WORDS],
      attributes: [
        ['identifier', 'tenant', 'attribute', 'tenant', 'type', 'TAG', 'SEPARATOR', ',', 'CASESENSITIVE'],
        ['identifier', 'session', 'attribute', 'session', 'type', 'TAG', 'SEPARATOR', ',', 'CASESENSITIVE'],
        ['identifier', 'user', 'attribute', 'user', 'type', 'TAG', 'SEPARATOR', ',', 'CASESENSITIVE'],
        ['identifier', 'tags', 'attribute', 'tags', 'type', 'TAG', 'SEPARATOR', ',', 'CASESENSITIVE'],
        ['identifier', 'role', 'attribute', 'role', 'type', 'TAG', 'SEPARATOR', ','],
        ['identifier', 'timestamp', 'attribute', 'timestamp', 'type', timestampType, 'SORTABLE'],
        ['identifier', 'content', 'attribute', 'content', 'type', 'TEXT', 'WEIGHT', '1'],
        ['identifier', 'embedding', 'attribute', 'embedding', 'type', 'VECTOR'],
        ['identifier', 'kind', 'attribute', 'kind', 'type', 'TAG', 'SEPARATOR', ','],
        ['identifier', 'context', 'attribute', 'context', 'type', 'TEXT', 'WEIGHT', '0.5'],
        ['identifier', 'event_at', 'attribute', 'event_at', 'type', 'NUMERIC'],
      ],
    });

    const params = { dim: 1536, m: 16, efConstruction: 200 };

    it('accepts an FT.INFO reply of the same schema and names every difference of another', () => {
      expect(schemaDifferences(info('mem:'), 'mem:', params)).toEqual([]);
      expect(vectorParamsReported(info('mem:'))).toBe(false);
      expect(schemaDifferences(info('other:', 'TAG'), 'mem:', params)).toEqual([
        'prefixes are [other:], not [mem:]',
        'field timestamp is TAG, not NUMERIC',
      ]);
      const noCase = info('mem:');
      noCase.attributes[0] = ['identifier', 'tenant', 'attribute', 'tenant', 'type', 'TAG', 'SEPARATOR', ','];
      noCase.attributes.splice(-4, 1);
      expect(schemaDifferences(noCase, 'mem:', params)).toEqual(['field tenant is not CASESENSITIVE', 'field embedding is missing']);
    });

    it("names RediSearch's default stop words (no stopwords_list), another list, and NOSTEM on content", () => {
      const other = info('mem:');
      other.stopwords_list = undefined;
      other.attributes[6] = ['identifier', 'content', 'attribute', 'content', 'type', 'TEXT', 'WEIGHT', '1', 'NOSTEM'];
      expect(schemaDifferences(other, 'mem:', params)).toEqual([`it uses RediSearch's default stop words, not the service's`, 'field content is NOSTEM']);
      other.stopwords_list = ['the', 'a'];
      expect(schemaDifferences(other, 'mem:', params)[0]).toBe(`its stop words are [the, a], not the service's`);
    });

    // The vector attribute as RediSearch 2.10 reports it in FT.INFO: algorithm, type, DIM, metric, M, EF_CONSTRUCTION.
    const vector210 = (over: Record<string, string | number> = {}) => {
      const fields = { algorithm: 'HNSW', data_type: 'FLOAT32', dim: 1536, distance_metric: 'COSINE', M: 16, ef_construction: 200, ...over };
      return ['identifier', 'embedding', 'attribute', 'embedding', 'type', 'VECTOR', ...Object.entries(fields).flat()];
    };

    it("compares the vector field's parameters where FT.INFO reports them (2.10+)", () => {
      const same = info('mem:');
      same.attributes[7] = vector210();
      expect(vectorParamsReported(same)).toBe(true);
      expect(schemaDifferences(same, 'mem:', params)).toEqual([]);
      const other = info('mem:');
      other.attributes[7] = vector210({ algorithm: 'FLAT', data_type: 'FLOAT64', dim: 384, distance_metric: 'L2', M: 32, ef_construction: 100 });
      expect(schemaDifferences(other, 'mem:', params)).toEqual([
        'field embedding has algorithm FLAT, not HNSW',
        'field embedding has data_type FLOAT64, not FLOAT32',
        'field embedding has dim 384, not 1536',
        'field embedding has distance_metric L2, not COSINE',
        'field embedding has m 32, not 16',
        'field embedding has ef_construction 100, not 200',
      ]);
    });
  });

  it('orders stream ids numerically', () => {
    expect(compareStreamIds('9-0', '10-0')).toBe(-1);
    expect(compareStreamIds('10-2', '10-10')).toBe(-1);
    expect(compareStreamIds('10-2', '10-2')).toBe(0);
    expect(compareStreamIds('1700000000001-0', '1700000000000-5')).toBe(1);
  });
});
