// Everything the report shows, as plain data: the activity gathers it from artifacts, the Markdown and HTML
// renderers only format it. Optional parts are absent when the run did not produce them.
import type { LengthSummary } from './length-histogram.ts';
import type { SignificanceRow } from './paired-significance.ts';
import type { DevRow, Interval, Variant, WeakFilterSummary } from './pooled-results.ts';
import type { StageCostRow } from './stage-costs.ts';

interface ReportMetrics {
  readonly ndcg10: number;
  readonly map100: number;
  readonly recall100: number;
  readonly mrr10: number;
  readonly queries: number;
}

export interface WeakDataSection {
  readonly name: string;
  readonly generated: number;
  readonly failed: number;
  readonly kept: number;
  /** Generation shards that still failed when the run went on (accepted or `onShardFailure: 'proceed'`); absent = none. */
  readonly shardsFailed?: readonly number[];
  /** Documents of those shards: they have no weak query and are recorded as not done for the next incremental run. */
  readonly documentsMissing?: number;
  /** Query length in words; both columns share the bins. */
  readonly lengthBins: readonly { readonly from: number; readonly to: number | null; readonly generated: number; readonly kept: number }[];
  readonly generatedLengths: LengthSummary | null;
  readonly keptLengths: LengthSummary | null;
  /** Seeded random kept pairs beside the start of their documents. */
  readonly samples: readonly { readonly docId: string; readonly query: string; readonly rank: number; readonly document: string }[];
}

interface CurvePoint {
  readonly epoch: number;
  readonly value: number;
}

export interface GateEntrySection {
  readonly runId: string;
  readonly name: string;
  readonly devScore: number;
  /** Shown when the run trained several replicates or the entry names one. */
  readonly replicate?: number;
  /** The replicate's training seed, when known (this run's candidate). */
  readonly seed?: number;
  readonly hybrid?: { readonly denseWeight: number };
}

interface PromotionSection {
  readonly promoted: boolean;
  readonly candidate: GateEntrySection;
  readonly incumbent: GateEntrySection | null;
  /** Paired test of candidate minus incumbent on per-query dev nDCG@10. */
  readonly test?: { readonly meanDifference: number; readonly p: number; readonly queries: number } | null;
  readonly reason?: string;
}

/** SPTAR (or its hybrid) against other systems on per-query test nDCG@10, averaged over replicates first. */
interface SignificanceSection {
  readonly reference: string;
  readonly trials: number;
  readonly rows: readonly SignificanceRow[];
  /** Bootstrap resamples of the rows' `diffCi95`. */
  readonly resamples?: number;
  /** Most training replicates a compared system's per-query scores were averaged over; absent or 1: none. */
  readonly replicates?: number;
}

export interface RunReport {
  readonly title: string;
  readonly dataset: string;
  readonly codeVersion: string;
  readonly config: unknown;
  readonly counts: Readonly<Record<string, number>>;
  /** One row per system and variant; `metrics` are means over the replicates when there are several. */
  readonly systems: readonly {
    readonly name: string;
    readonly metrics: ReportMetrics;
    readonly variant?: Variant;
    /** Training replicates averaged; absent = 1. */
    readonly replicates?: number;
    /** Student-t 95% CI of nDCG@10 over the replicates; null with one. */
    readonly ndcg10Ci95?: Interval | null;
  }[];
  /** Reference system (SPTAR) against each other one over per-query nDCG@10. */
  readonly significance?: SignificanceSection | null;
  /** SPTAR fused with BM25 against the other hybrids and BM25 (retriever.hybrid). */
  readonly hybridSignificance?: SignificanceSection | null;
  readonly weakData?: readonly WeakDataSection[];
  /** The weak-pair filters after BM25 and the copy rates of weak and labeled queries. */
  readonly weakFilters?: WeakFilterSummary | null;
  /** S_eval loss per prompt-tuning epoch (epoch 0 = the initial prompt). */
  readonly promptTuning?: { readonly bestEpoch: number; readonly evalLoss: readonly CurvePoint[] } | null;
  /** Dev nDCG@10 per epoch of each trained retriever. */
  readonly retrievers?: readonly {
    readonly name: string;
    readonly bestEpoch: number;
    readonly bestDevScore: number;
    readonly devScore: readonly CurvePoint[];
    /** Leading epochs trained on weak pairs alone (weak-first schedule); absent or 0 when pairs were mixed. */
    readonly weakEpochs?: number;
  }[];
  /** Every trained retriever on its dev queries, and how dev scores rank the retrievers against their test scores. */
  readonly dev?: {
    readonly rows: readonly DevRow[];
    readonly agreement: { readonly spearman: number | null; readonly points: number };
  } | null;
  readonly stageCosts?: readonly StageCostRow[];
  readonly promotion?: PromotionSection | null;
  readonly artifacts: readonly { readonly key: string; readonly sha256: string; readonly bytes: number }[];
}

/** A sentence naming the epochs each retriever trained on weak pairs alone, or '' when every retriever mixed its pairs. */
export function weakPhaseNote(retrievers: NonNullable<RunReport['retrievers']>): string {
  const weakFirst = retrievers.filter((x) => (x.weakEpochs ?? 0) > 0);
  if (weakFirst.length === 0) return '';
  const span = (w: number) => (w === 1 ? 'epoch 1' : `epochs 1-${w}`);
  return `Weak-first schedule: ${weakFirst.map((x) => `${x.name} trained ${span(x.weakEpochs!)} on its weak pairs alone, the later epochs on the labeled pairs`).join('; ')}.`;
}

export const fmt4 = (x: number): string => x.toFixed(4);

export const signed4 = (x: number): string => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(4)}`;

/** p-values to four decimals; smaller ones as a bound, since the randomization test cannot resolve them. */
export const pValue = (p: number | null): string => (p === null ? 'n/a' : p < 0.0001 ? '<0.0001' : p.toFixed(4));

/** What the weak-data table's missing columns mean, naming each system's failed shards. */
export function missingShardsSentence(sections: readonly WeakDataSection[]): string {
  const parts = sections.filter((s) => s.shardsFailed).map((s) => `${s.name}: shard${s.shardsFailed!.length === 1 ? '' : 's'} ${s.shardsFailed!.join(', ')} (${s.documentsMissing ?? 0} documents)`);
  return `Generation shards failed and the run went on without them (${parts.join('; ')}). Their documents have no weak query here; they are recorded as not done, so the next incremental run generates them.`;
}

export const percent = (part: number, whole: number): string => (whole === 0 ? 'n/a' : `${((100 * part) / whole).toFixed(1)}%`);

export const seconds = (s: number | null): string => (s === null ? 'n/a' : s.toFixed(1));

export const binLabel = (b: { readonly from: number; readonly to: number | null }): string => (b.to === null ? `≥${b.from}` : b.from === b.to ? `${b.from}` : `${b.from}–${b.to}`);

/** Epochs of several curves merged into one sorted list, for a table with a column per curve. */
export function unionEpochs(curves: readonly (readonly CurvePoint[])[]): number[] {
  return [...new Set(curves.flatMap((c) => c.map((p) => p.epoch)))].sort((a, b) => a - b);
}

export const interval4 = (ci: Interval | null | undefined): string => (ci ? `[${fmt4(ci.low)}, ${fmt4(ci.high)}]` : 'n/a');

export const signedInterval4 = (ci: Interval | null | undefined): string => (ci ? `[${signed4(ci.low)}, ${signed4(ci.high)}]` : 'n/a');

/** A share in [0, 1] as a percentage; null as n/a. */
export const share = (x: number | null): string => (x === null ? 'n/a' : `${(100 * x).toFixed(1)}%`);

export const METRICS_SEEDS_NOTE = "Trained systems: every metric is the mean over the training replicates (replicate r trained with the config's seed + r); the CI is Student's t over the replicates' nDCG@10.";
export const METRICS_HYBRID_NOTE = "+ BM25 hybrid: BM25's test run fused with the system's dense retriever by min-max normalised scores, at the dense weight chosen on the dev queries.";

/** The sentence over significance tables whose trained systems were pooled over replicates. */
export const pooledNote = (s: { readonly replicates?: number }): string =>
  `Per-query nDCG@10 of each trained system is averaged over its ${s.replicates ?? 1} training replicates before the tests (BM25 and the zero-shot encoder have one run).`;

/** A gate entry: the system, its variant and replicate ('SPTAR + BM25 hybrid (dense weight 0.60; replicate 1, seed 14)'). */
export function gateEntryLabel(e: GateEntrySection): string {
  const details = [
    ...(e.hybrid ? [`dense weight ${e.hybrid.denseWeight.toFixed(2)}`] : []),
    ...(e.replicate !== undefined ? [`replicate ${e.replicate}${e.seed !== undefined ? `, seed ${e.seed}` : ''}`] : []),
  ];
  const name = e.hybrid ? `${e.name} + BM25 hybrid` : e.name;
  return details.length > 0 ? `${name} (${details.join('; ')})` : name;
}

/** The sentence under the dev table: Spearman's rho of dev against test nDCG@10. */
export function agreementNote(a: { readonly spearman: number | null; readonly points: number }): string {
  const over = `${a.points} trained (system, replicate, dense or hybrid) row${a.points === 1 ? '' : 's'} with both a dev and a test score`;
  return a.spearman === null
    ? `Dev-test agreement: n/a over ${over} (needs two or more, and scores that are not all equal).`
    : `Dev-test agreement: Spearman ρ = ${a.spearman.toFixed(4)} between dev and test nDCG@10 over ${over}.`;
}

/** What the copy and dense round-trip filters were set to. */
export function weakFilterSettings(w: WeakFilterSummary): string {
  const limits = [...(w.maxOverlap !== null ? [`word overlap ≤ ${w.maxOverlap}`] : []), ...(w.maxSpanShare !== null ? [`verbatim span share ≤ ${w.maxSpanShare}`] : [])];
  const copy = limits.length > 0 ? `keeps a pair whose query has ${limits.join(' and ')} with its document` : 'off';
  const dense = w.denseTopK !== null ? `keeps a pair whose document the starting encoder ranks in the top ${w.denseTopK} for its query` : 'off';
  return `Copy filter: ${copy}. Dense round trip: ${dense}. Shares are of the BM25-kept pairs.`;
}

/** The labelled rows of the copy-rate table: BM25-kept weak queries, those every filter kept, and the real queries. */
export const COPY_RATE_ROWS = [
  ['weak', 'weak (BM25-kept)'],
  ['kept', 'kept (after every filter)'],
  ['labeled', 'labeled (real queries)'],
] as const;
