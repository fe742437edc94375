// A run's results pooled over its training replicates (retriever.seeds) and split by variant (the dense retriever,
// BM25 fused with it): each system's metrics with a Student-t CI over the replicates, SPTAR's paired tests on
// per-query nDCG@10 averaged over the replicates with paired bootstrap CIs, every trained retriever's dev score with a
// bootstrap CI over the dev queries, how well dev ranks the retrievers as test does, and what the weak-pair filters
// after BM25 kept. Pure and seeded: the report and the SciFact benchmark compute the same figures here.
import type { PipelineConfig } from '../../common/pipeline-config.ts';
import type { Metrics, SystemEvaluation } from '../../common/pipeline-stages.ts';
import type { RetrieverSystem, TrainedRetriever, WeakRefinementStats } from '../../common/retriever-types.ts';
import { bootstrapMeanCi, meanOverSeeds, tCi } from '../metrics/bootstrap.ts';
import { createPrng } from '../random/prng.ts';
import { compareAgainst, type PerQueryScores, type SignificanceRow } from './paired-significance.ts';
import { spearman } from './rank-correlation.ts';

export const SYSTEM_NAMES: Record<SystemEvaluation['system'], string> = {
  bm25: 'BM25',
  'zero-shot': 'Zero-shot encoder',
  wo: 'W/O (labeled pairs only)',
  inpars: 'InPars-style',
  sptar: 'SPTAR',
};

/** Fixed, so every report of the same run shows the same p-values and intervals. */
export const SIGNIFICANCE_TRIALS = 10_000;
export const BOOTSTRAP_RESAMPLES = 10_000;

/** 'dense': the system's own run (BM25's for bm25); 'hybrid': BM25 fused with the system's dense retriever. */
export type Variant = 'dense' | 'hybrid';

export interface Interval {
  readonly low: number;
  readonly high: number;
}

export const variantOf = (e: { readonly hybrid?: unknown }): Variant => (e.hybrid ? 'hybrid' : 'dense');
export const replicateOf = (e: { readonly replicate?: number }): number => e.replicate ?? 0;
export const systemName = (system: SystemEvaluation['system'], variant: Variant): string => (variant === 'hybrid' ? `${SYSTEM_NAMES[system]} + BM25 hybrid` : SYSTEM_NAMES[system]);
/** Key of a system and variant in machine-readable output: the system, '-hybrid' appended for the fused one. */
export const variantKey = (system: SystemEvaluation['system'], variant: Variant): string => (variant === 'hybrid' ? `${system}-hybrid` : system);

/** One evaluation with its per-query test nDCG@10. */
export interface EvaluatedScores {
  readonly evaluation: SystemEvaluation;
  readonly queryIds: readonly string[];
  readonly scores: readonly number[];
}

/** Every evaluation of one system and variant: one per training replicate (bm25 and zero-shot have one). */
export interface SystemGroup {
  readonly system: SystemEvaluation['system'];
  readonly variant: Variant;
  readonly name: string;
  /** In replicate order; `denseWeight` for a hybrid. */
  readonly replicates: readonly { readonly replicate: number; readonly metrics: Metrics; readonly denseWeight?: number }[];
  /** Each metric's mean over the replicates. */
  readonly mean: Metrics;
  /** Student-t 95% CI of nDCG@10 over the replicates; null with one replicate. */
  readonly ndcg10Ci95: Interval | null;
  /** Per-query nDCG@10 averaged over the replicates. */
  readonly pooled: PerQueryScores;
}

const mean = (xs: readonly number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;

function meanMetrics(ms: readonly Metrics[]): Metrics {
  return {
    ndcg10: mean(ms.map((m) => m.ndcg10)),
    map100: mean(ms.map((m) => m.map100)),
    recall100: mean(ms.map((m) => m.recall100)),
    mrr10: mean(ms.map((m) => m.mrr10)),
    queries: ms[0]!.queries,
  };
}

function scoreMap(x: EvaluatedScores, name: string): Map<string, number> {
  if (x.queryIds.length !== x.scores.length) throw new RangeError(`per-query scores of ${name}: ${x.queryIds.length} query ids but ${x.scores.length} scores`);
  return new Map(x.queryIds.map((id, i) => [id, x.scores[i]!]));
}

/** Evaluations grouped by system and variant, in the order each group first appears. */
export function groupEvaluations(evaluated: readonly EvaluatedScores[]): SystemGroup[] {
  const byKey = new Map<string, EvaluatedScores[]>();
  for (const x of evaluated) {
    const key = variantKey(x.evaluation.system, variantOf(x.evaluation));
    const list = byKey.get(key) ?? [];
    byKey.set(key, list);
    list.push(x);
  }
  return [...byKey.values()].map((list) => {
    const first = list[0]!.evaluation;
    const variant = variantOf(first);
    const name = systemName(first.system, variant);
    const sorted = [...list].sort((a, b) => replicateOf(a.evaluation) - replicateOf(b.evaluation));
    sorted.forEach((x, i) => {
      if (i > 0 && replicateOf(x.evaluation) === replicateOf(sorted[i - 1]!.evaluation)) throw new RangeError(`${name} has two evaluations of replicate ${replicateOf(x.evaluation)}`);
    });
    const ndcg = sorted.map((x) => x.evaluation.metrics.ndcg10);
    const ci = sorted.length >= 2 ? tCi(ndcg, 0.95) : null;
    const pooled = meanOverSeeds(sorted.map((x) => scoreMap(x, name)));
    return {
      system: first.system,
      variant,
      name,
      replicates: sorted.map((x) => ({
        replicate: replicateOf(x.evaluation),
        metrics: x.evaluation.metrics,
        ...(x.evaluation.hybrid ? { denseWeight: x.evaluation.hybrid.denseWeight } : {}),
      })),
      mean: meanMetrics(sorted.map((x) => x.evaluation.metrics)),
      ndcg10Ci95: ci && { low: ci.low, high: ci.high },
      pooled: { system: name, queryIds: [...pooled.keys()], scores: [...pooled.values()] },
    };
  });
}

/** A reference against other systems on pooled per-query nDCG@10. */
export interface PooledComparison {
  readonly reference: string;
  /** variantKey of the reference and of each row's system, in row order. */
  readonly referenceKey: string;
  readonly otherKeys: readonly string[];
  readonly trials: number;
  readonly resamples: number;
  /** Most replicates any compared system pooled (1: nothing was pooled). */
  readonly replicates: number;
  readonly rows: readonly SignificanceRow[];
}

function comparison(reference: SystemGroup | undefined, others: readonly SystemGroup[], seed: number): PooledComparison | null {
  if (!reference || others.length === 0) return null;
  return {
    reference: reference.name,
    referenceKey: variantKey(reference.system, reference.variant),
    otherKeys: others.map((g) => variantKey(g.system, g.variant)),
    trials: SIGNIFICANCE_TRIALS,
    resamples: BOOTSTRAP_RESAMPLES,
    replicates: Math.max(...[reference, ...others].map((g) => g.replicates.length)),
    rows: compareAgainst(reference.pooled, others.map((g) => g.pooled), { seed, trials: SIGNIFICANCE_TRIALS, resamples: BOOTSTRAP_RESAMPLES }),
  };
}

/**
 * SPTAR's dense retriever against every other dense system (BM25, zero-shot, W/O, InPars-style), and, when the run
 * fused retrievers with BM25, SPTAR's hybrid against the other hybrids and BM25 itself.
 */
export function pooledSignificance(groups: readonly SystemGroup[], seed: number): { readonly dense: PooledComparison | null; readonly hybrid: PooledComparison | null } {
  const find = (system: SystemEvaluation['system'], variant: Variant) => groups.find((g) => g.system === system && g.variant === variant);
  const dense = groups.filter((g) => g.variant === 'dense' && g.system !== 'sptar');
  const hybridOthers = [find('wo', 'hybrid'), find('inpars', 'hybrid'), find('bm25', 'dense')].filter((g): g is SystemGroup => g !== undefined);
  const sptarHybrid = find('sptar', 'hybrid');
  return { dense: comparison(find('sptar', 'dense'), dense, seed), hybrid: sptarHybrid ? comparison(sptarHybrid, hybridOthers, seed) : null };
}

/** A trained retriever on its dev queries. */
export interface DevRow {
  readonly system: RetrieverSystem;
  readonly name: string;
  readonly replicate: number;
  /** The training seed: the config's seed + the replicate. */
  readonly seed: number;
  readonly queries: number;
  /** Dev nDCG@10 of the selected epoch. */
  readonly devScore: number;
  /** Bootstrap 95% CI over the dev queries; null without per-query dev scores (results stored before they were). */
  readonly ci95: Interval | null;
  /** BM25 fused with the retriever at the dense weight chosen on the dev queries (retriever.hybrid). */
  readonly fusion: { readonly denseWeight: number; readonly devScore: number; readonly ci95: Interval | null } | null;
}

function devCi(values: readonly number[], seed: number, stream: string): Interval | null {
  if (values.length === 0) return null;
  const ci = bootstrapMeanCi(values, { seed: createPrng(seed, stream).nextUint32(), resamples: BOOTSTRAP_RESAMPLES, level: 0.95 });
  return { low: ci.low, high: ci.high };
}

export function devRows(retrievers: readonly TrainedRetriever[], seed: number): DevRow[] {
  return retrievers.map((t) => {
    const replicate = replicateOf(t);
    const stream = `report/dev/${t.system}/${replicate}`;
    const f = t.dev?.fusion;
    return {
      system: t.system,
      name: SYSTEM_NAMES[t.system],
      replicate,
      seed: seed + replicate,
      queries: t.dev?.queryIds.length ?? t.counts.devQueries,
      devScore: t.bestDevScore,
      ci95: t.dev ? devCi(t.dev.ndcg10, seed, stream) : null,
      fusion: f ? { denseWeight: f.denseWeight, devScore: f.devScore, ci95: devCi(f.ndcg10, seed, `${stream}/hybrid`) } : null,
    };
  });
}

/** Spearman's rho of dev against test nDCG@10 over every trained (system, replicate, variant) with both. */
export interface DevTestAgreement {
  /** null with fewer than two points or when either score is constant. */
  readonly spearman: number | null;
  readonly points: readonly { readonly system: RetrieverSystem; readonly replicate: number; readonly variant: Variant; readonly dev: number; readonly test: number }[];
}

export function devTestAgreement(evaluations: readonly SystemEvaluation[], retrievers: readonly TrainedRetriever[]): DevTestAgreement {
  const points: DevTestAgreement['points'][number][] = [];
  for (const t of retrievers) {
    const replicate = replicateOf(t);
    const test = (variant: Variant) => evaluations.find((e) => e.system === t.system && replicateOf(e) === replicate && variantOf(e) === variant)?.metrics.ndcg10;
    const dense = test('dense');
    if (dense !== undefined) points.push({ system: t.system, replicate, variant: 'dense', dev: t.bestDevScore, test: dense });
    const fused = test('hybrid');
    const f = t.dev?.fusion;
    if (f && fused !== undefined) points.push({ system: t.system, replicate, variant: 'hybrid', dev: f.devScore, test: fused });
  }
  return { spearman: spearman(points.map((p) => p.dev), points.map((p) => p.test)), points };
}

/** One system's weak pairs through the filters after BM25 (from its first replicate: the filters do not depend on the seed). */
export interface WeakFilterRow {
  readonly system: RetrieverSystem;
  readonly name: string;
  readonly bm25Kept: number;
  readonly afterCopyFilter: number;
  readonly afterDenseRoundTrip: number;
  /** Shares of the BM25-kept pairs; null when BM25 kept none. */
  readonly copyFilterShare: number | null;
  readonly denseRoundTripShare: number | null;
  readonly copyRate: WeakRefinementStats['copyRate'];
}

export interface WeakFilterSummary {
  readonly maxOverlap: number | null;
  readonly maxSpanShare: number | null;
  readonly denseTopK: number | null;
  readonly rows: readonly WeakFilterRow[];
}

export function weakFilterSummary(retrievers: readonly TrainedRetriever[], config: PipelineConfig['weakFilter']): WeakFilterSummary | null {
  const rows: WeakFilterRow[] = [];
  for (const t of [...retrievers].sort((a, b) => replicateOf(a) - replicateOf(b))) {
    const w = t.weakFilters;
    if (!w || rows.some((r) => r.system === t.system)) continue;
    const share = (n: number) => (w.bm25Kept === 0 ? null : n / w.bm25Kept);
    rows.push({
      system: t.system,
      name: SYSTEM_NAMES[t.system],
      bm25Kept: w.bm25Kept,
      afterCopyFilter: w.afterCopyFilter,
      afterDenseRoundTrip: w.afterDenseRoundTrip,
      copyFilterShare: share(w.afterCopyFilter),
      denseRoundTripShare: share(w.afterDenseRoundTrip),
      copyRate: w.copyRate,
    });
  }
  // In the order the systems were trained.
  const order = (s: RetrieverSystem) => retrievers.findIndex((t) => t.system === s);
  rows.sort((a, b) => order(a.system) - order(b.system));
  return rows.length === 0 ? null : { maxOverlap: config.maxOverlap, maxSpanShare: config.maxSpanShare, denseTopK: config.denseTopK, rows };
}

export interface PooledResults {
  readonly groups: readonly SystemGroup[];
  readonly significance: ReturnType<typeof pooledSignificance>;
  readonly dev: readonly DevRow[];
  readonly agreement: DevTestAgreement;
  readonly weakFilters: WeakFilterSummary | null;
}

/** Everything above for one run; `seed` is the config's (significance streams, bootstrap streams, training seeds). */
export function poolResults(r: { readonly evaluated: readonly EvaluatedScores[]; readonly retrievers: readonly TrainedRetriever[]; readonly config: Pick<PipelineConfig, 'seed' | 'weakFilter'> }): PooledResults {
  const groups = groupEvaluations(r.evaluated);
  return {
    groups,
    significance: pooledSignificance(groups, r.config.seed),
    dev: devRows(r.retrievers, r.config.seed),
    agreement: devTestAgreement(r.evaluated.map((x) => x.evaluation), r.retrievers),
    weakFilters: weakFilterSummary(r.retrievers, r.config.weakFilter),
  };
}
