// trec_eval ignores the rank column of a run: it sorts each query's documents by score, highest first, and breaks
// ties by document id in descending order (strcmp). JavaScript compares strings by UTF-16 code units; for ids in
// ASCII (every BEIR dataset) that is the same order as strcmp on bytes.

interface ScoredDoc {
  readonly id: string;
  readonly score: number;
}

/** Negative when `a` ranks before `b`. */
export function trecOrder(a: ScoredDoc, b: ScoredDoc): number {
  if (a.score !== b.score) return b.score - a.score;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

export function rankForTrecEval(scores: ReadonlyMap<string, number>): ScoredDoc[] {
  return [...scores].map(([id, score]) => ({ id, score })).sort(trecOrder);
}
