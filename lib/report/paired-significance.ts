// SPTAR against every other system on the same test queries: per-query nDCG@10 differences, tested with the
// paired randomisation test (seeded) and the paired t-test from lib/metrics, with a paired bootstrap CI of the mean
// difference when asked for.
import { pairedBootstrapDiffCi } from '../metrics/bootstrap.ts';
import { pairedRandomizationTest, pairedTTest } from '../metrics/significance.ts';
import { createPrng } from '../random/prng.ts';

export interface PerQueryScores {
  readonly system: string;
  readonly queryIds: readonly string[];
  readonly scores: readonly number[];
}

export interface SignificanceRow {
  readonly system: string;
  readonly queries: number;
  readonly referenceMean: number;
  readonly otherMean: number;
  /** Mean of reference - other over queries. */
  readonly meanDifference: number;
  readonly randomizationP: number;
  /** null when there are fewer than two queries. */
  readonly tTestP: number | null;
  /** 95% paired bootstrap CI of the mean difference (resampled queries); present when `resamples` was given. */
  readonly diffCi95?: { readonly low: number; readonly high: number };
}

interface SignificanceOptions {
  readonly seed: number;
  readonly trials: number;
  /** Bootstrap resamples for the CI of each mean difference; absent = no CI. */
  readonly resamples?: number;
}

/** Scores of `other` in the query order of `reference`; both must cover the same judged queries. */
function aligned(reference: PerQueryScores, other: PerQueryScores): number[] {
  for (const s of [reference, other]) {
    if (s.queryIds.length !== s.scores.length) throw new RangeError(`per-query scores of ${s.system}: ${s.queryIds.length} query ids but ${s.scores.length} scores`);
  }
  const byId = new Map<string, number>();
  other.queryIds.forEach((id, i) => byId.set(id, other.scores[i]!));
  if (byId.size !== reference.queryIds.length) {
    throw new RangeError(`${reference.system} has ${reference.queryIds.length} evaluated queries and ${other.system} ${byId.size}: a paired test needs both systems evaluated on the same qrels`);
  }
  return reference.queryIds.map((id) => {
    const v = byId.get(id);
    if (v === undefined) throw new RangeError(`query ${id} is evaluated for ${reference.system} but not for ${other.system}: evaluate both on the same qrels`);
    return v;
  });
}

const mean = (xs: readonly number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;

/** One row per other system; each comparison draws from its own seeded stream, so rows do not depend on order. */
export function compareAgainst(reference: PerQueryScores, others: readonly PerQueryScores[], options: SignificanceOptions): SignificanceRow[] {
  return others.map((other) => {
    const b = aligned(reference, other);
    const a = reference.scores;
    const random = createPrng(options.seed, `report/significance/${reference.system}/${other.system}`).next;
    const perm = pairedRandomizationTest(a, b, { random, trials: options.trials });
    const resamples = options.resamples;
    const ci =
      resamples === undefined
        ? undefined
        : pairedBootstrapDiffCi(a, b, { seed: createPrng(options.seed, `report/bootstrap/${reference.system}/${other.system}`).nextUint32(), resamples, level: 0.95 });
    return {
      system: other.system,
      queries: a.length,
      referenceMean: mean(a),
      otherMean: mean(b),
      meanDifference: perm.meanDifference,
      randomizationP: perm.p,
      tTestP: a.length >= 2 ? pairedTTest(a, b).p : null,
      ...(ci ? { diffCi95: { low: ci.low, high: ci.high } } : {}),
    };
  });
}
