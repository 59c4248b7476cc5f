/** The client id a stress turn carries at the start of its content: "[cid] ...". */
export const stressContent = (cid: string, text: string): string => `[${cid}] ${text}`;
const cidOf = (content: string): string | undefined => /^\[([^\]]+)\]/.exec(content)?.[1];

export interface SessionAudit {
  session: string;
  /** Turns the API acknowledged. */
  expected: number;
  /** Turns in the session's history. */
  stored: number;
  /** Acknowledged but not in the history. */
  lost: number;
  /** History entries beyond the first for one client id or one turn id. */
  duplicated: number;
  /** In the history but never acknowledged (e.g. a request whose answer was lost and not retried). */
  unacknowledged: number;
}

/** Compares what the API acknowledged with what the history holds: each acknowledged turn exactly once. */
export function auditSession(
  session: string,
  acknowledged: readonly string[],
  history: readonly { turnId: string; content: string }[],
): SessionAudit {
  const expected = new Set(acknowledged);
  const seenCids = new Set<string>();
  const seenTurnIds = new Set<string>();
  let duplicated = 0;
  let unacknowledged = 0;
  for (const t of history) {
    const cid = cidOf(t.content) ?? `turn:${t.turnId}`;
    if (seenCids.has(cid) || seenTurnIds.has(t.turnId)) duplicated++;
    else if (!expected.has(cid)) unacknowledged++;
    seenCids.add(cid);
    seenTurnIds.add(t.turnId);
  }
  const lost = [...expected].filter((cid) => !seenCids.has(cid)).length;
  return { session, expected: expected.size, stored: history.length, lost, duplicated, unacknowledged };
}

export interface AuditTotals {
  sessions: number;
  expected: number;
  stored: number;
  lost: number;
  duplicated: number;
  unacknowledged: number;
  /** Every acknowledged turn stored exactly once. */
  ok: boolean;
}

export function auditTotals(audits: readonly SessionAudit[]): AuditTotals {
  const sum = (k: 'expected' | 'stored' | 'lost' | 'duplicated' | 'unacknowledged') => audits.reduce((a, s) => a + s[k], 0);
  const totals = { sessions: audits.length, expected: sum('expected'), stored: sum('stored'), lost: sum('lost'), duplicated: sum('duplicated'), unacknowledged: sum('unacknowledged') };
  return { ...totals, ok: totals.lost === 0 && totals.duplicated === 0 };
}
