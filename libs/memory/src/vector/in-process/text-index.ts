import MiniSearch, { type AsPlainObject } from 'minisearch';
import { CONTEXT_WEIGHT, indexTerm, queryWords, words } from '../text-terms';
import { nextSlice } from './time-slicer';

/** A label (the mirror's dense id) and its BM25 score. */
export interface TextMatch {
  label: number;
  score: number;
}

interface TextDoc {
  id: number;
  content: string;
  context?: string;
}

const OPTIONS = { fields: ['content', 'context'], idField: 'id', tokenize: words, processTerm: indexTerm };
const SEARCH = { boost: { context: CONTEXT_WEIGHT } };
const newSessionIndex = () => new MiniSearch<TextDoc>(OPTIONS);

/**
 * Stems a document's words into stemWord's memo a slice at a time, before the synchronous add, which then only looks
 * them up: stemming a 2,000-word turn and its context held a retriever's event loop, and other tenants' searches, for
 * 50-100 ms.
 */
export async function stemInSlices(...texts: (string | undefined)[]): Promise<void> {
  for (const text of texts) {
    for (const word of words(text ?? '')) {
      indexTerm(word);
      const turn = nextSlice();
      if (turn) await turn;
    }
  }
}

/** tenant -> session -> MiniSearch's own serialisation of that session's index. */
export type TextIndexSnapshot = Record<string, Record<string, AsPlainObject>>;

/**
 * The in-process full-text index of the hnsw and exact backends: MiniSearch (BM25), one index per session.
 * Per session because searches are scoped to sessions: a query costs the size of its sessions, not the tenant's,
 * a session delete drops one index, and term statistics never mix tenants (no cross-tenant side channel).
 * A query over several sessions merges their BM25 lists by score; each list's IDF is its own session's.
 */
export class TextIndex {
  /** tenant -> session -> index */
  private readonly sessions = new Map<string, Map<string, MiniSearch<TextDoc>>>();

  /** The JSON text of a TextIndexSnapshot in pieces, one session's index each, so a caller can yield between them. */
  *snapshotJson(): Generator<string> {
    let tenants = 0;
    yield '{';
    for (const [tenant, bySession] of this.sessions) {
      let sessions = 0;
      yield `${tenants++ ? ',' : ''}${JSON.stringify(tenant)}:{`;
      for (const [session, index] of bySession) yield `${sessions++ ? ',' : ''}${JSON.stringify(session)}:${JSON.stringify(index)}`;
      yield '}';
    }
    yield '}';
  }

  /** The index a snapshot was taken of. */
  static restore(snapshot: TextIndexSnapshot): TextIndex {
    const out = new TextIndex();
    for (const [tenant, bySession] of Object.entries(snapshot)) {
      out.sessions.set(tenant, new Map(Object.entries(bySession).map(([s, js]) => [s, MiniSearch.loadJS<{ id: number; content: string }>(js, OPTIONS)])));
    }
    return out;
  }

  add(label: number, tenant: string, session: string, content: string, context?: string): void {
    let bySession = this.sessions.get(tenant);
    if (!bySession) this.sessions.set(tenant, (bySession = new Map()));
    let index = bySession.get(session);
    if (!index) bySession.set(session, (index = newSessionIndex()));
    index.add({ id: label, content, context });
  }

  /** Drops one document (a forgotten turn). */
  remove(label: number, tenant: string, session: string): void {
    const index = this.sessions.get(tenant)?.get(session);
    if (index?.has(label)) index.discard(label);
  }

  removeSession(tenant: string, session: string): void {
    const bySession = this.sessions.get(tenant);
    bySession?.delete(session);
    if (bySession?.size === 0) this.sessions.delete(tenant);
  }

  /** The best `k` labels that pass the filter, by BM25 score; an empty list when the text has no searchable word. */
  search(text: string, scope: { tenant: string; sessions?: string[] }, passes: (label: number) => boolean, k: number): TextMatch[] {
    const query = queryWords(text).join(' ');
    const bySession = this.sessions.get(scope.tenant);
    if (query === '' || !bySession) return [];
    const matches: TextMatch[] = [];
    for (const name of new Set(scope.sessions ?? bySession.keys())) {
      for (const r of bySession.get(name)?.search(query, { ...SEARCH, filter: (r) => passes(r.id as number) }) ?? []) {
        matches.push({ label: r.id as number, score: r.score });
      }
    }
    return matches.sort((a, b) => b.score - a.score).slice(0, k);
  }
}
