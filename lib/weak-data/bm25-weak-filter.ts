// SPTAR's weak data filter: a (weak query, source document) pair is kept only if BM25 over the whole corpus ranks
// the source document within the top k for that query. It removes queries too generic or off-topic to point back
// to their document. The authors use k = 30 (MS MARCO) and 70 (FiQA) and report 41% and 60% retention.
import type { Bm25Index } from '../bm25/bm25-types.ts';

interface WeakPair {
  readonly queryId: string;
  readonly docId: string;
  readonly query: string;
}

interface KeptPair extends WeakPair {
  /** 1-based rank of the source document for its own query. */
  readonly rank: number;
}

interface WeakFilterStats {
  readonly topK: number;
  readonly total: number;
  readonly kept: number;
  readonly dropped: number;
  /** kept / total (0 when there are no pairs). */
  readonly retention: number;
  /** Kept pairs whose document ranked first. */
  readonly rankedFirst: number;
}

interface WeakFilterResult {
  readonly kept: KeptPair[];
  readonly stats: WeakFilterStats;
}

interface WeakFilterOptions {
  /** Keep a pair iff its document ranks in the top k for its query (the config's `weakFilter.topK`). */
  readonly topK: number;
  /** Called every `progressEvery` pairs (e.g. to heartbeat). */
  readonly onProgress?: (done: number) => void;
  readonly progressEvery?: number;
}

export async function filterWeakPairs(
  index: Pick<Bm25Index, 'search'>,
  pairs: Iterable<WeakPair> | AsyncIterable<WeakPair>,
  options: WeakFilterOptions,
): Promise<WeakFilterResult> {
  const topK = options.topK;
  if (!Number.isInteger(topK) || topK < 1) throw new RangeError(`weak filter topK must be a positive integer, got ${topK}`);
  const every = options.progressEvery ?? 1000;
  const kept: KeptPair[] = [];
  let total = 0;
  let rankedFirst = 0;
  for await (const pair of pairs) {
    total++;
    const hits = index.search(pair.query, topK);
    const position = hits.findIndex((h) => h.id === pair.docId);
    if (position >= 0) {
      kept.push({ ...pair, rank: position + 1 });
      if (position === 0) rankedFirst++;
    }
    if (options.onProgress && total % every === 0) options.onProgress(total);
  }
  return {
    kept,
    stats: { topK, total, kept: kept.length, dropped: total - kept.length, retention: total === 0 ? 0 : kept.length / total, rankedFirst },
  };
}
