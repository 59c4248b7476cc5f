/**
 * The LoCoMo benchmark's file format (Maharana et al., ACL 2024: snap-research/LoCoMo, data/locomo10.json), read into
 * what the recall benchmark ingests and asks. The data itself is never part of this project: its path is an argument.
 */
export interface LocomoTurn {
  /** e.g. D3:12 = session 3, turn 12. */
  diaId: string;
  /** `<speaker>: <text>`, plus ` [photo: <caption>]` for a shared photo. */
  content: string;
  /** The session's date, plus one second per turn so that the turns keep their order. */
  timestamp: number;
}

export interface LocomoQuestion {
  question: string;
  /** 1 multi-hop, 2 temporal, 3 open-domain, 4 single-hop (5, adversarial, has no evidence and is skipped). */
  category: 1 | 2 | 3 | 4;
  /** The dia_ids that hold the answer, repaired and deduplicated; never empty. */
  evidence: string[];
}

export interface LocomoConversation {
  id: string;
  turns: LocomoTurn[];
  questions: LocomoQuestion[];
}

/** What was done to the annotations, printed by the benchmark. */
export interface EvidenceRepairs {
  /** `D8:6; D9:17`: several ids in one string, split. */
  split: number;
  /** `D:11:26`: an extra colon, read as D11:26. */
  reformatted: number;
  /** Ids that name no turn of the conversation (after repair), dropped. */
  dropped: number;
  /** Questions of categories 1-4 left without evidence (none annotated, or all dropped), skipped. */
  questionsSkipped: number;
  /** Category 5 (adversarial) questions, skipped: they have no answer in the conversation. */
  adversarialSkipped: number;
}

interface RawTurn {
  speaker: string;
  dia_id: string;
  text: string;
  blip_caption?: string;
}

interface RawConversation {
  sample_id: string;
  conversation: Record<string, unknown>;
  qa: { question: string; category: number; evidence?: string[] }[];
}

const MONTHS = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];

/** A session date such as "1:56 pm on 8 May, 2023", as epoch ms (UTC). */
export function parseSessionDate(text: string): number {
  const m = /^(\d{1,2}):(\d{2}) (am|pm) on (\d{1,2}) ([A-Za-z]+),? (\d{4})$/.exec(text.trim());
  const month = m ? MONTHS.indexOf(m[5].toLowerCase()) : -1;
  if (!m || month < 0) throw new Error(`unreadable session date ${JSON.stringify(text)}`);
  const hour = (Number(m[1]) % 12) + (m[3] === 'pm' ? 12 : 0);
  return Date.UTC(Number(m[6]), month, Number(m[4]), hour, Number(m[2]));
}

/**
 * The API's client ids allow [A-Za-z0-9_-] only, so D1:3 is sent as D1-3 (reversibly: dia_ids hold no '-').
 * Drop this once client ids accept any printable string.
 */
export const toClientId = (diaId: string): string => diaId.replace(/:/g, '-');

/** Splits, reformats and checks one question's evidence against the conversation's turns. */
function repairEvidence(raw: string[], known: Set<string>, repairs: EvidenceRepairs): string[] {
  const out: string[] = [];
  for (const entry of raw) {
    const parts = entry.split(/[;,\s]+/).filter(Boolean);
    if (parts.length > 1) repairs.split++;
    for (const part of parts) {
      const fixed = part.replace(/^D:(\d+):(\d+)$/, 'D$1:$2');
      if (fixed !== part) repairs.reformatted++;
      if (known.has(fixed)) out.push(fixed);
      else repairs.dropped++;
    }
  }
  return [...new Set(out)];
}

/** Reads the parsed JSON file: every session's turns, and the category 1-4 questions with usable evidence. */
export function readLocomo(raw: unknown): { conversations: LocomoConversation[]; repairs: EvidenceRepairs } {
  if (!Array.isArray(raw)) throw new Error('a LoCoMo file is a JSON array of conversations');
  const repairs: EvidenceRepairs = { split: 0, reformatted: 0, dropped: 0, questionsSkipped: 0, adversarialSkipped: 0 };
  const conversations = (raw as RawConversation[]).map((c) => {
    const turns: LocomoTurn[] = [];
    for (let s = 1; Array.isArray(c.conversation[`session_${s}`]); s++) {
      const date = parseSessionDate(String(c.conversation[`session_${s}_date_time`]));
      (c.conversation[`session_${s}`] as RawTurn[]).forEach((t, i) => {
        const caption = t.blip_caption ? ` [photo: ${t.blip_caption}]` : '';
        turns.push({ diaId: t.dia_id, content: `${t.speaker}: ${t.text}${caption}`, timestamp: date + i * 1000 });
      });
    }
    const known = new Set(turns.map((t) => t.diaId));
    const questions: LocomoQuestion[] = [];
    for (const q of c.qa) {
      if (q.category === 5) {
        repairs.adversarialSkipped++;
        continue;
      }
      const evidence = repairEvidence(q.evidence ?? [], known, repairs);
      if (evidence.length === 0) repairs.questionsSkipped++;
      else questions.push({ question: q.question, category: q.category as LocomoQuestion['category'], evidence });
    }
    return { id: c.sample_id, turns, questions };
  });
  return { conversations, repairs };
}
