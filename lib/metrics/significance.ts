// Paired significance tests over per-query scores of two systems on the same queries (Smucker, Allan and
// Carterette 2007 recommend the randomisation test for IR; the t-test is the common companion).
import { studentTTwoSidedP } from './student-t.ts';

interface PairedTestResult {
  /** Mean of a - b over queries. */
  readonly meanDifference: number;
  /** Two-sided p-value. */
  readonly p: number;
}

function differences(a: ArrayLike<number>, b: ArrayLike<number>): Float64Array {
  if (a.length !== b.length) throw new RangeError(`paired test needs per-query scores for the same queries: got ${a.length} and ${b.length} values`);
  if (a.length === 0) throw new RangeError('paired test needs at least one query');
  const d = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) d[i] = a[i]! - b[i]!;
  return d;
}

interface RandomizationOptions {
  /** Uniform in [0, 1) from a seeded generator. */
  readonly random: () => number;
  readonly trials?: number;
}

/**
 * Paired randomisation (sign-flip permutation) test: under the null hypothesis each query's difference is as
 * likely to have either sign. p = (1 + #{|permuted mean| >= |observed mean|}) / (1 + trials), which never
 * reports an impossible p of 0.
 */
export function pairedRandomizationTest(a: ArrayLike<number>, b: ArrayLike<number>, options: RandomizationOptions): PairedTestResult & { readonly trials: number } {
  const d = differences(a, b);
  const trials = options.trials ?? 10_000;
  const n = d.length;
  let observed = 0;
  for (const v of d) observed += v;
  const threshold = Math.abs(observed) - 1e-12 * n; // float noise must not turn equal sums into "smaller"
  let atLeast = 0;
  for (let t = 0; t < trials; t++) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += options.random() < 0.5 ? -d[i]! : d[i]!;
    if (Math.abs(sum) >= threshold) atLeast++;
  }
  return { meanDifference: observed / n, p: (atLeast + 1) / (trials + 1), trials };
}

/** Paired two-sided t-test on the per-query differences (df = n - 1). */
export function pairedTTest(a: ArrayLike<number>, b: ArrayLike<number>): PairedTestResult & { readonly t: number; readonly df: number } {
  const d = differences(a, b);
  const n = d.length;
  if (n < 2) throw new RangeError('a paired t-test needs at least two queries');
  let mean = 0;
  for (const v of d) mean += v;
  mean /= n;
  let ss = 0;
  for (const v of d) ss += (v - mean) * (v - mean);
  const sd = Math.sqrt(ss / (n - 1));
  const df = n - 1;
  if (sd === 0) return { meanDifference: mean, t: mean === 0 ? 0 : Math.sign(mean) * Infinity, df, p: mean === 0 ? 1 : 0 };
  const t = mean / (sd / Math.sqrt(n));
  return { meanDifference: mean, t, df, p: studentTTwoSidedP(t, df) };
}
