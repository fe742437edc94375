// Confidence intervals for mean metrics: percentile bootstrap over queries (seeded, so reruns report the same
// interval), its paired form for the difference of two systems, the per-query mean over training seeds, and a
// Student-t interval for a handful of per-seed means.
import { createPrng } from '../random/prng.ts';
import { studentTTwoSidedP } from './student-t.ts';

export interface MeanCi {
  readonly mean: number;
  readonly low: number;
  readonly high: number;
}

export interface BootstrapOptions {
  /** Seed of the resampling generator (createPrng). */
  readonly seed: number;
  /** Bootstrap resamples; 2000 by default. */
  readonly resamples?: number;
  /** Coverage of the interval, in (0, 1); 0.95 by default. */
  readonly level?: number;
}

const checkLevel = (level: number): void => {
  if (!(level > 0 && level < 1)) throw new RangeError(`confidence level must be in (0, 1), got ${level}`);
};

function meanOf(values: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i]!;
  return sum / values.length;
}

/** The p-quantile of ascending `sorted`, interpolating linearly between order statistics (R's type 7). */
function quantileSorted(sorted: Float64Array, p: number): number {
  const h = (sorted.length - 1) * p;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}

/**
 * Percentile bootstrap CI of the mean: `resamples` samples of the values drawn with replacement (same size), and
 * the (1 - level) / 2 and (1 + level) / 2 quantiles of their means. Deterministic for a seed.
 */
export function bootstrapMeanCi(values: ArrayLike<number>, options: BootstrapOptions): MeanCi {
  const n = values.length;
  if (n === 0) throw new RangeError('a bootstrap CI needs at least one value');
  for (let i = 0; i < n; i++) if (!Number.isFinite(values[i]!)) throw new RangeError(`bootstrap values must be finite, got ${values[i]} at index ${i}`);
  const resamples = options.resamples ?? 2000;
  if (!Number.isInteger(resamples) || resamples < 1) throw new RangeError(`resamples must be a positive integer, got ${resamples}`);
  const level = options.level ?? 0.95;
  checkLevel(level);
  const prng = createPrng(options.seed);
  const means = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += values[prng.int(n)]!;
    means[r] = sum / n;
  }
  means.sort();
  const tail = (1 - level) / 2;
  return { mean: meanOf(values), low: quantileSorted(means, tail), high: quantileSorted(means, 1 - tail) };
}

/**
 * Paired bootstrap CI of the mean per-query difference a - b (the queries resampled together, so both systems see
 * the same queries in each resample).
 */
export function pairedBootstrapDiffCi(a: ArrayLike<number>, b: ArrayLike<number>, options: BootstrapOptions): MeanCi {
  if (a.length !== b.length) throw new RangeError(`paired bootstrap needs per-query scores for the same queries: got ${a.length} and ${b.length} values`);
  const d = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) d[i] = a[i]! - b[i]!;
  return bootstrapMeanCi(d, options);
}

/**
 * Per-query mean over training seeds (query id -> score, one map per seed), in the first seed's query order: the
 * scores a paired test pooled over seeds compares. Every query must be scored under every seed.
 */
export function meanOverSeeds(perSeed: readonly ReadonlyMap<string, number>[]): Map<string, number> {
  if (perSeed.length === 0) throw new RangeError('meanOverSeeds needs at least one seed');
  const [first] = perSeed;
  perSeed.forEach((scores, s) => {
    for (const qid of scores.keys()) if (!first!.has(qid)) throw new Error(`query ${qid} is scored under seed #${s} but not under seed #0`);
  });
  const out = new Map<string, number>();
  for (const qid of first!.keys()) {
    let sum = 0;
    perSeed.forEach((scores, s) => {
      const v = scores.get(qid);
      if (v === undefined) throw new Error(`query ${qid} is not scored under seed #${s}`);
      sum += v;
    });
    out.set(qid, sum / perSeed.length);
  }
  return out;
}

/**
 * The two-sided critical value of Student's t: the t > 0 with P(|T| >= t) = 1 - level for df degrees of freedom
 * (so t_{(1 + level) / 2, df}), by bisection on studentTTwoSidedP, which falls as t grows.
 */
export function studentTCritical(level: number, df: number): number {
  checkLevel(level);
  if (!(df > 0)) throw new RangeError(`degrees of freedom must be > 0, got ${df}`);
  const alpha = 1 - level;
  let lo = 0;
  let hi = 1;
  while (studentTTwoSidedP(hi, df) > alpha) {
    lo = hi;
    hi *= 2;
  }
  for (let i = 0; i < 200 && hi - lo > 1e-12 * hi; i++) {
    const mid = (lo + hi) / 2;
    if (studentTTwoSidedP(mid, df) > alpha) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/**
 * Mean and Student-t CI, mean +- t_{(1 + level) / 2, n - 1} * sd / sqrt(n), of a few values (e.g. one mean per
 * training seed). A single value has no spread to estimate: low = high = mean.
 */
export function tCi(values: ArrayLike<number>, level = 0.95): MeanCi {
  const n = values.length;
  if (n === 0) throw new RangeError('a t CI needs at least one value');
  checkLevel(level);
  const mean = meanOf(values);
  if (n < 2) return { mean, low: mean, high: mean };
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (values[i]! - mean) * (values[i]! - mean);
  const halfWidth = ss === 0 ? 0 : (studentTCritical(level, n - 1) * Math.sqrt(ss / (n - 1))) / Math.sqrt(n);
  return { mean, low: mean - halfWidth, high: mean + halfWidth };
}
