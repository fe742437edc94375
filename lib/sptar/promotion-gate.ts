// The promotion gate: which of a run's retrievers would be served (every replicate of the candidate system, dense
// or fused with BM25, the best on the dev queries), and whether it replaces the retriever in service. With the same
// dev queries on both sides the decision is a paired randomisation test on per-query dev nDCG@10 (promote only a
// significant gain, so nightly runs do not swap retrievers on noise); without them it falls back to the dev means.
// Pure: the promotion activity decides here for the pipeline workflow.
import type { DevOutcomeRecord } from '../../common/retriever-types.ts';
import { pairedRandomizationTest } from '../metrics/significance.ts';
import { createPrng } from '../random/prng.ts';

export interface ServedCandidate {
  readonly system: 'wo' | 'inpars' | 'sptar';
  readonly replicate: number;
  /** Present: BM25 fused with the retriever at this dense weight. */
  readonly hybrid?: { readonly denseWeight: number };
  readonly devScore: number;
  /** Per-query dev nDCG@10, in `queryIds` order. */
  readonly dev?: { readonly queryIds: readonly string[]; readonly ndcg10: readonly number[] };
}

interface TrainedLike {
  readonly system: 'wo' | 'inpars' | 'sptar';
  readonly replicate?: number;
  readonly bestDevScore: number;
  readonly dev?: DevOutcomeRecord;
}

/** The best on dev of every replicate, dense and (when fused) hybrid; ties keep the earlier (dense, lower replicate). */
export function bestServedCandidate(trained: readonly TrainedLike[]): ServedCandidate {
  if (trained.length === 0) throw new Error('the promotion gate needs at least one trained retriever');
  let best: ServedCandidate | undefined;
  for (const t of trained) {
    const options: ServedCandidate[] = [
      { system: t.system, replicate: t.replicate ?? 0, devScore: t.bestDevScore, ...(t.dev ? { dev: { queryIds: t.dev.queryIds, ndcg10: t.dev.ndcg10 } } : {}) },
    ];
    const f = t.dev?.fusion;
    if (f && t.dev) options.push({ system: t.system, replicate: t.replicate ?? 0, hybrid: { denseWeight: f.denseWeight }, devScore: f.devScore, dev: { queryIds: t.dev.queryIds, ndcg10: f.ndcg10 } });
    for (const o of options) if (best === undefined || o.devScore > best.devScore) best = o;
  }
  return best!;
}

export interface GateDecision {
  readonly promoted: boolean;
  /** Paired test of candidate minus incumbent on the shared dev queries, when both have them. */
  readonly test: { readonly meanDifference: number; readonly p: number; readonly queries: number } | null;
  readonly reason: string;
}

const sameQueries = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((q, i) => q === b[i]);

export function promotionDecision(candidate: ServedCandidate, incumbent: Pick<ServedCandidate, 'devScore' | 'dev'> | null, options: { readonly alpha: number; readonly seed: number }): GateDecision {
  if (incumbent === null) return { promoted: true, test: null, reason: 'no retriever in service yet' };
  if (candidate.dev && incumbent.dev && sameQueries(candidate.dev.queryIds, incumbent.dev.queryIds)) {
    const t = pairedRandomizationTest(candidate.dev.ndcg10, incumbent.dev.ndcg10, { random: createPrng(options.seed, 'promotion-gate').next });
    const test = { meanDifference: t.meanDifference, p: t.p, queries: candidate.dev.queryIds.length };
    const promoted = t.meanDifference > 0 && t.p < options.alpha;
    const reason = promoted
      ? `dev nDCG@10 ${fmt(t.meanDifference)} better, paired p = ${t.p.toFixed(3)} < ${options.alpha}`
      : `not a significant gain on the dev queries (${fmt(t.meanDifference)}, paired p = ${t.p.toFixed(3)}, needs < ${options.alpha} and a gain); the retriever in service stays`;
    return { promoted, test, reason };
  }
  const promoted = candidate.devScore >= incumbent.devScore;
  return {
    promoted,
    test: null,
    reason: `the retriever in service was selected on other dev queries, so only the means compare (${candidate.devScore.toFixed(4)} vs ${incumbent.devScore.toFixed(4)})`,
  };
}

const fmt = (d: number) => `${d >= 0 ? '+' : ''}${d.toFixed(4)}`;
