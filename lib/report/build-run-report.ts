// The report stage's logic: everything a run report shows, assembled from the run's records and the data the
// activity has read from the store. Pure: the activity loads, calls `buildRunReport`, renders and stores.
import type { PipelineConfig } from '../../common/pipeline-config.ts';
import type { PreparedData, PromotionDecision, StageTiming, SystemEvaluation, WeakDataSummary } from '../../common/pipeline-stages.ts';
import type { TrainedRetriever, WeakPairRow } from '../../common/retriever-types.ts';
import { createPrng } from '../random/prng.ts';
import { LengthCounter, wordCount } from './length-histogram.ts';
import { compareAgainst, type PerQueryScores } from './paired-significance.ts';
import { ReservoirSample } from './reservoir-sample.ts';
import type { RunReport, WeakDataSection } from './run-report.ts';
import { summariseStageCosts, type CostRecord } from './stage-costs.ts';

export const SYSTEM_NAMES: Record<SystemEvaluation['system'], string> = {
  bm25: 'BM25',
  'zero-shot': 'Zero-shot encoder',
  wo: 'W/O (labeled pairs only)',
  inpars: 'InPars-style',
  sptar: 'SPTAR',
};

/** Report settings: fixed, so every report of the same run shows the same samples and p-values. */
const SIGNIFICANCE_TRIALS = 10_000;
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
  /** Per-query nDCG@10 of each evaluation, in the same order. */
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

export function buildRunReport(r: RunReportInputs): RunReport {
  const p = r.prepared;
  const scores = (system: SystemEvaluation['system']): PerQueryScores => {
    const pq = r.perQuery.find((x) => x.system === system)!;
    return { system: SYSTEM_NAMES[system], queryIds: [...pq.queryIds], scores: [...pq.scores] };
  };
  const sptar = r.evaluations.find((e) => e.system === 'sptar');
  const others = r.evaluations.filter((e) => e.system !== 'sptar');
  const significance =
    sptar && others.length > 0
      ? {
          reference: SYSTEM_NAMES.sptar,
          trials: SIGNIFICANCE_TRIALS,
          rows: compareAgainst(scores('sptar'), others.map((e) => scores(e.system)), { seed: r.config.seed, trials: SIGNIFICANCE_TRIALS }),
        }
      : null;
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
    systems: r.evaluations.map((e) => ({ name: SYSTEM_NAMES[e.system], metrics: e.metrics })),
    significance,
    weakData: r.weakData.map((t) => weakDataSection(t, r.previews)),
    promptTuning: r.promptCurve && { bestEpoch: r.promptCurve.bestEpoch, evalLoss: r.promptCurve.curve.map((c) => ({ epoch: c.epoch, value: c.evalLoss })) },
    retrievers: r.retrievers.map((t) => ({
      name: SYSTEM_NAMES[t.system],
      bestEpoch: t.bestEpoch,
      bestDevScore: t.bestDevScore,
      devScore: t.curve.map((c) => ({ epoch: c.epoch, value: c.devScore })),
      weakEpochs: t.weakEpochs,
    })),
    stageCosts: r.timings.length > 0 || r.costs.length > 0 ? summariseStageCosts(r.costs, r.timings) : [],
    promotion: promotion && {
      promoted: promotion.promoted,
      candidate: { runId: promotion.candidate.runId, name: SYSTEM_NAMES[promotion.candidate.system], devScore: promotion.candidate.devScore },
      incumbent: promotion.incumbent && { runId: promotion.incumbent.runId, name: SYSTEM_NAMES[promotion.incumbent.system], devScore: promotion.incumbent.devScore },
    },
    artifacts: r.artifacts,
  };
}
