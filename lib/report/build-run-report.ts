// The report stage's logic: everything a run report shows, assembled from the run's records and the data the
// activity has read from the store. Pure: the activity loads, calls `buildRunReport`, renders and stores.
import type { PipelineConfig } from '../../common/pipeline-config.ts';
import type { PreparedData, PromotionDecision, StageTiming, SystemEvaluation, WeakDataSummary } from '../../common/pipeline-stages.ts';
import type { TrainedRetriever, WeakPairRow } from '../../common/retriever-types.ts';
import { createPrng } from '../random/prng.ts';
import { LengthCounter, wordCount } from './length-histogram.ts';
import { poolResults, replicateOf, SYSTEM_NAMES, type PooledComparison } from './pooled-results.ts';
import { ReservoirSample } from './reservoir-sample.ts';
import type { GateEntrySection, RunReport, WeakDataSection } from './run-report.ts';
import { summariseStageCosts, type CostRecord } from './stage-costs.ts';

export { SYSTEM_NAMES } from './pooled-results.ts';

/** Report settings: fixed, so every report of the same run shows the same samples and p-values. */
const SAMPLES_PER_SYSTEM = 20;
export const DOCUMENT_PREVIEW_CHARS = 300;
const LENGTH_BIN_WORDS = 2;
const LENGTH_BINS = 12;

/** Query lengths of one augmentor's generated and kept queries, and a seeded sample of its kept pairs. */
export class WeakDataTally {
  readonly generated = new LengthCounter();
  readonly kept = new LengthCounter();
  private readonly reservoir: ReservoirSample<WeakPairRow>;

  constructor(
    readonly summary: WeakDataSummary,
    seed: number,
  ) {
    this.reservoir = new ReservoirSample<WeakPairRow>(SAMPLES_PER_SYSTEM, createPrng(seed, `report/samples/${summary.system}`).next);
  }

  addGenerated(query: string): void {
    this.generated.add(wordCount(query));
  }

  addKept(row: WeakPairRow): void {
    this.kept.add(wordCount(row.query));
    this.reservoir.add(row);
  }

  get sample(): readonly WeakPairRow[] {
    return this.reservoir.sample;
  }
}

function weakDataSection(t: WeakDataTally, previews: ReadonlyMap<string, string>): WeakDataSection {
  const w = t.summary;
  const upTo = Math.max(t.generated.maxLength, t.kept.maxLength);
  const keptBins = t.kept.bins(LENGTH_BIN_WORDS, LENGTH_BINS, upTo);
  return {
    name: SYSTEM_NAMES[w.system],
    generated: w.generated,
    failed: w.failed,
    kept: w.kept,
    ...(w.shardsFailed && w.shardsFailed.length > 0 ? { shardsFailed: [...w.shardsFailed], documentsMissing: w.documentsMissing ?? 0 } : {}),
    lengthBins: t.generated.bins(LENGTH_BIN_WORDS, LENGTH_BINS, upTo).map((b, i) => ({ ...b, generated: b.count, kept: keptBins[i]?.count ?? 0 })),
    generatedLengths: t.generated.summary(),
    keptLengths: t.kept.summary(),
    samples: t.sample.map((p) => ({ docId: p.docId, query: p.query, rank: p.rank, document: previews.get(p.docId) ?? '(document not in the prepared corpus)' })),
  };
}

export interface RunReportInputs {
  readonly runId: string;
  readonly config: PipelineConfig;
  readonly codeVersion: string;
  readonly prepared: PreparedData;
  readonly evaluations: readonly SystemEvaluation[];
  /** Per-query nDCG@10 of each evaluation, in the same order (`system` names it for messages). */
  readonly perQuery: readonly { readonly system: SystemEvaluation['system']; readonly queryIds: readonly string[]; readonly scores: readonly number[] }[];
  readonly weakData: readonly WeakDataTally[];
  /** The first characters of every sampled document, by id. */
  readonly previews: ReadonlyMap<string, string>;
  readonly promptCurve: { readonly bestEpoch: number; readonly curve: readonly { readonly epoch: number; readonly evalLoss: number }[] } | null;
  readonly retrievers: readonly TrainedRetriever[];
  readonly costs: readonly CostRecord[];
  readonly timings: readonly StageTiming[];
  readonly promotion: PromotionDecision | null;
  /** The manifest's artifacts, the manifest itself last. */
  readonly artifacts: RunReport['artifacts'];
}

const significanceSection = (c: PooledComparison | null): RunReport['significance'] =>
  c && { reference: c.reference, trials: c.trials, rows: c.rows, resamples: c.resamples, replicates: c.replicates };

export function buildRunReport(r: RunReportInputs): RunReport {
  const p = r.prepared;
  if (r.perQuery.length !== r.evaluations.length) throw new RangeError(`${r.evaluations.length} evaluations but per-query scores of ${r.perQuery.length}`);
  const pooled = poolResults({
    evaluated: r.evaluations.map((evaluation, i) => ({ evaluation, queryIds: r.perQuery[i]!.queryIds, scores: r.perQuery[i]!.scores })),
    retrievers: r.retrievers,
    config: r.config,
  });
  const seeds = r.config.retriever.seeds;
  // Replicates are named only when there are several of a system, so a one-seed run reads as it always did.
  const replicatesOf = (system: string) => r.retrievers.filter((t) => t.system === system).length;
  const retrieverName = (t: TrainedRetriever) => (replicatesOf(t.system) > 1 || replicateOf(t) > 0 ? `${SYSTEM_NAMES[t.system]}, replicate ${replicateOf(t)}` : SYSTEM_NAMES[t.system]);
  const gateEntry = (e: PromotionDecision['candidate'], candidate: boolean): GateEntrySection => ({
    runId: e.runId,
    name: SYSTEM_NAMES[e.system],
    devScore: e.devScore,
    ...(e.replicate !== undefined || (candidate && seeds > 1) ? { replicate: e.replicate ?? 0 } : {}),
    ...(candidate && (e.replicate !== undefined || seeds > 1) ? { seed: r.config.seed + (e.replicate ?? 0) } : {}),
    ...(e.hybrid ? { hybrid: { denseWeight: e.hybrid.denseWeight } } : {}),
  });
  const promotion = r.promotion;
  return {
    title: `SPTAR run ${r.runId}`,
    dataset: r.config.dataset.name,
    codeVersion: r.codeVersion,
    config: r.config,
    counts: {
      documents: p.counts.documents,
      queries: p.counts.queries,
      'S_train pairs': p.counts.sTrainPairs,
      'S_eval queries': p.counts.sEvalQueries,
      'test queries': p.counts.testQueries,
      'D_unlabeled documents': p.counts.unlabeledDocuments,
      'unchanged since the last run (incremental)': p.counts.unchangedSinceLastRun,
      'D_unlabeled shards': p.unlabeled.count,
      'rejected rows': p.counts.rejectedRows,
    },
    systems: pooled.groups.map((g) => ({
      name: g.name,
      metrics: g.mean,
      ...(g.variant === 'hybrid' ? { variant: g.variant } : {}),
      ...(g.replicates.length > 1 ? { replicates: g.replicates.length, ndcg10Ci95: g.ndcg10Ci95 } : {}),
    })),
    significance: significanceSection(pooled.significance.dense),
    hybridSignificance: significanceSection(pooled.significance.hybrid),
    weakData: r.weakData.map((t) => weakDataSection(t, r.previews)),
    weakFilters: pooled.weakFilters,
    promptTuning: r.promptCurve && { bestEpoch: r.promptCurve.bestEpoch, evalLoss: r.promptCurve.curve.map((c) => ({ epoch: c.epoch, value: c.evalLoss })) },
    retrievers: r.retrievers.map((t) => ({
      name: retrieverName(t),
      bestEpoch: t.bestEpoch,
      bestDevScore: t.bestDevScore,
      devScore: t.curve.map((c) => ({ epoch: c.epoch, value: c.devScore })),
      weakEpochs: t.weakEpochs,
    })),
    dev: r.retrievers.length > 0 ? { rows: pooled.dev, agreement: { spearman: pooled.agreement.spearman, points: pooled.agreement.points.length } } : null,
    stageCosts: r.timings.length > 0 || r.costs.length > 0 ? summariseStageCosts(r.costs, r.timings) : [],
    promotion: promotion && {
      promoted: promotion.promoted,
      candidate: gateEntry(promotion.candidate, true),
      incumbent: promotion.incumbent && gateEntry(promotion.incumbent, false),
      ...(promotion.test !== undefined ? { test: promotion.test } : {}),
      ...(promotion.reason !== undefined ? { reason: promotion.reason } : {}),
    },
    artifacts: r.artifacts,
  };
}
