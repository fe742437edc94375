// Everything the report shows, as plain data: the activity gathers it from artifacts, the Markdown and HTML
// renderers only format it. Optional parts are absent when the run did not produce them.
import type { LengthSummary } from './length-histogram.ts';
import type { SignificanceRow } from './paired-significance.ts';
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

interface PromotionSection {
  readonly promoted: boolean;
  readonly candidate: { readonly runId: string; readonly name: string; readonly devScore: number };
  readonly incumbent: { readonly runId: string; readonly name: string; readonly devScore: number } | null;
}

export interface RunReport {
  readonly title: string;
  readonly dataset: string;
  readonly codeVersion: string;
  readonly config: unknown;
  readonly counts: Readonly<Record<string, number>>;
  readonly systems: readonly { readonly name: string; readonly metrics: ReportMetrics }[];
  /** Reference system (SPTAR) against each other one over per-query nDCG@10. */
  readonly significance?: { readonly reference: string; readonly trials: number; readonly rows: readonly SignificanceRow[] } | null;
  readonly weakData?: readonly WeakDataSection[];
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

export const percent = (part: number, whole: number): string => (whole === 0 ? 'n/a' : `${((100 * part) / whole).toFixed(1)}%`);

export const seconds = (s: number | null): string => (s === null ? 'n/a' : s.toFixed(1));

export const binLabel = (b: { readonly from: number; readonly to: number | null }): string => (b.to === null ? `≥${b.from}` : b.from === b.to ? `${b.from}` : `${b.from}–${b.to}`);

/** Epochs of several curves merged into one sorted list, for a table with a column per curve. */
export function unionEpochs(curves: readonly (readonly CurvePoint[])[]): number[] {
  return [...new Set(curves.flatMap((c) => c.map((p) => p.epoch)))].sort((a, b) => a - b);
}
