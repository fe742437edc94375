// Hybrid retrieval by fusing a sparse (BM25) run with a dense one: a weighted sum of per-query min-max normalised
// scores, reciprocal rank fusion, and the choice of the dense weight on dev qrels. Every fused list is cut to the
// top `depth` in trec_eval's order, so what is kept is exactly what evaluateRun would rank.
import { evaluateRun, rankForTrecEval } from '../metrics/index.ts';

/** Query id -> document id -> score: the run type evaluateRun reads (its `RunScores`). */
type RunScores = Parameters<typeof evaluateRun>[1];
/** Query id -> document id -> relevance grade. */
type Judgements = Parameters<typeof evaluateRun>[0];

/** A fused run: query id -> document id -> fused score, each query's documents inserted in trec_eval order. */
export type FusedRun = Map<string, Map<string, number>>;

const checkDepth = (depth: number): void => {
  if (!Number.isInteger(depth) || depth < 1) throw new RangeError(`fusion depth must be a positive integer, got ${depth}`);
};

/** The top `depth` of `scores` by trecOrder (score descending, ties by document id descending). */
function topInTrecOrder(scores: ReadonlyMap<string, number>, depth: number): Map<string, number> {
  return new Map(
    rankForTrecEval(scores)
      .slice(0, depth)
      .map((d) => [d.id, d.score]),
  );
}

/** Every query id of the runs, sorted. */
const queryUnion = (runs: readonly RunScores[]): string[] => [...new Set(runs.flatMap((r) => [...r.keys()]))].sort();

/**
 * One query's scores mapped onto [0, 1] by (s - min) / (max - min); a list whose scores are all equal maps to 1
 * (every document in it was retrieved, and none is worse than another). A missing or empty list gives no entries.
 */
function minMaxNormalised(scores: ReadonlyMap<string, number> | undefined): Map<string, number> {
  const out = new Map<string, number>();
  if (!scores || scores.size === 0) return out;
  let min = Infinity;
  let max = -Infinity;
  for (const [id, s] of scores) {
    if (!Number.isFinite(s)) throw new RangeError(`min-max fusion needs finite scores, got ${s} for document ${id}`);
    if (s < min) min = s;
    if (s > max) max = s;
  }
  const range = max - min;
  for (const [id, s] of scores) out.set(id, range === 0 ? 1 : (s - min) / range);
  return out;
}

/**
 * Weighted fusion of min-max normalised scores: per query, fused = (1 - denseWeight) * sparse + denseWeight * dense,
 * where a document that only one run retrieved gets 0 from the other. Each query of either run is in the output,
 * with its top `depth` documents by fused score (ties by document id descending, as trec_eval ranks them).
 * denseWeight 0 ranks by BM25 alone, 1 by the dense retriever alone.
 */
export function fuseMinMax(sparse: RunScores, dense: RunScores, denseWeight: number, depth = 100): FusedRun {
  if (!(denseWeight >= 0 && denseWeight <= 1)) throw new RangeError(`dense weight must be in [0, 1], got ${denseWeight}`);
  checkDepth(depth);
  const sparseWeight = 1 - denseWeight;
  const fused: FusedRun = new Map();
  for (const qid of queryUnion([sparse, dense])) {
    const s = minMaxNormalised(sparse.get(qid));
    const d = minMaxNormalised(dense.get(qid));
    const scores = new Map<string, number>();
    for (const id of new Set([...s.keys(), ...d.keys()])) scores.set(id, sparseWeight * (s.get(id) ?? 0) + denseWeight * (d.get(id) ?? 0));
    fused.set(qid, topInTrecOrder(scores, depth));
  }
  return fused;
}

/**
 * Reciprocal rank fusion (Cormack, Clarke and Buettcher 2009): a document scores the sum over runs of
 * 1 / (k + rank), its rank (from 1) taken in each run's own trec_eval order; a run that did not retrieve it adds
 * nothing. Each query of any run is in the output, with its top `depth` documents.
 */
export function fuseRrf(runs: readonly RunScores[], k = 60, depth = 100): FusedRun {
  if (!(Number.isFinite(k) && k >= 0)) throw new RangeError(`RRF k must be a finite number >= 0, got ${k}`);
  checkDepth(depth);
  const fused: FusedRun = new Map();
  for (const qid of queryUnion(runs)) {
    const scores = new Map<string, number>();
    for (const run of runs) {
      const list = run.get(qid);
      if (!list) continue;
      rankForTrecEval(list).forEach((doc, i) => scores.set(doc.id, (scores.get(doc.id) ?? 0) + 1 / (k + i + 1)));
    }
    fused.set(qid, topInTrecOrder(scores, depth));
  }
  return fused;
}

/** The dense weights tried by default: 0, 0.1, ..., 1, each the exact decimal i / 10. */
export const DEFAULT_FUSION_WEIGHTS: readonly number[] = Array.from({ length: 11 }, (_, i) => i / 10);

export interface FusionWeightOptions {
  /** Dense weights to try, each in [0, 1]; DEFAULT_FUSION_WEIGHTS by default. */
  readonly weights?: readonly number[];
  /** The mean metric maximised over the qrels' queries; only nDCG@10 for now. */
  readonly metric?: 'ndcg@10';
}

export interface FusionWeightChoice {
  /** The chosen dense weight. */
  readonly weight: number;
  /** Its mean metric over the qrels' queries. */
  readonly score: number;
  /** Every weight tried with its score, in the order of `options.weights`. */
  readonly scores: { weight: number; score: number }[];
}

/**
 * The dense weight of `fuseMinMax` that maximises mean nDCG@10 over the queries of `qrels` (judged queries missing
 * from both runs score 0, as in evaluateRun). Ties go to the smaller weight, the one closer to BM25 alone: equal
 * scores come from equal rankings, which are computed identically, so the comparison is exact.
 */
export function chooseFusionWeight(qrels: Judgements, sparse: RunScores, dense: RunScores, options: FusionWeightOptions = {}): FusionWeightChoice {
  const metric = options.metric ?? 'ndcg@10';
  if (metric !== 'ndcg@10') throw new RangeError(`unsupported fusion metric ${String(metric)}`);
  const weights = options.weights ?? DEFAULT_FUSION_WEIGHTS;
  if (weights.length === 0) throw new RangeError('chooseFusionWeight needs at least one weight');
  const scores = weights.map((weight) => ({
    weight,
    score: evaluateRun(qrels, fuseMinMax(sparse, dense, weight), { metrics: [{ kind: 'ndcg', k: 10 }] }).mean[metric]!,
  }));
  let best = scores[0]!;
  for (const s of scores) if (s.score > best.score || (s.score === best.score && s.weight < best.weight)) best = s;
  return { weight: best.weight, score: best.score, scores };
}
