import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bootstrapMeanCi, meanOverSeeds, pairedBootstrapDiffCi, studentTCritical, tCi } from '../../../lib/metrics/bootstrap.ts';
import { studentTTwoSidedP } from '../../../lib/metrics/student-t.ts';
import { createPrng } from '../../../lib/random/prng.ts';

const near = (got: number, want: number, tol: number) => assert.ok(Math.abs(got - want) <= tol, `got ${got}, expected ${want} +- ${tol}`);

describe('percentile bootstrap', () => {
  const scores = [0.2, 0.9, 0.4, 0.65, 0.1, 0.8, 0.55, 0.3];

  it('is deterministic for a seed, and the seed matters', () => {
    const a = bootstrapMeanCi(scores, { seed: 7 });
    assert.deepEqual(bootstrapMeanCi(new Float64Array(scores), { seed: 7 }), a);
    const b = bootstrapMeanCi(scores, { seed: 8 });
    assert.equal(b.mean, a.mean);
    assert.ok(a.low !== b.low || a.high !== b.high, 'different seeds gave identical resamples');
  });

  it('contains the mean and narrows as the level drops', () => {
    const ci95 = bootstrapMeanCi(scores, { seed: 3 });
    near(ci95.mean, 3.9 / 8, 1e-12);
    assert.ok(ci95.low < ci95.mean && ci95.mean < ci95.high, JSON.stringify(ci95));
    const ci50 = bootstrapMeanCi(scores, { seed: 3, level: 0.5 });
    assert.ok(ci95.low < ci50.low && ci50.high < ci95.high, JSON.stringify({ ci95, ci50 }));
  });

  it('a constant array (or a single value) gives low = high = mean', () => {
    const tenth = (0.1 + 0.1 + 0.1) / 3; // summed as the resamples are, so bit-identical to each resample mean
    assert.deepEqual(bootstrapMeanCi([0.1, 0.1, 0.1], { seed: 1 }), { mean: tenth, low: tenth, high: tenth });
    assert.deepEqual(bootstrapMeanCi([0.42], { seed: 9, resamples: 50 }), { mean: 0.42, low: 0.42, high: 0.42 });
  });

  it('matches small exact bootstrap distributions', () => {
    // [0, 0, 0, 1]: a resample mean is K/4, K ~ Binomial(4, 1/4): P(K = 0) = 81/256 > 2.5%, P(K <= 2) = 243/256 =
    // .949 < 97.5% < P(K <= 3) = 255/256, so the 95% interval is [0, .75] (2000 resamples miss .975 by ~5 sd).
    assert.deepEqual(bootstrapMeanCi([0, 0, 0, 1], { seed: 11 }), { mean: 0.25, low: 0, high: 0.75 });
    // [0, 1]: resample means 0, .5, 1 with probabilities 1/4, 1/2, 1/4.
    assert.deepEqual(bootstrapMeanCi([0, 1], { seed: 12 }), { mean: 0.5, low: 0, high: 1 });
    assert.deepEqual(bootstrapMeanCi([0, 1], { seed: 12, level: 0.2 }), { mean: 0.5, low: 0.5, high: 0.5 });
  });

  it('approaches mean +- 1.96 sd/sqrt(n) for many queries', () => {
    const prng = createPrng(2024);
    const values = Array.from({ length: 400 }, () => prng.next());
    const mean = values.reduce((s, v) => s + v, 0) / values.length;
    const sd = Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / values.length);
    const half = (1.959964 * sd) / Math.sqrt(values.length);
    const ci = bootstrapMeanCi(values, { seed: 5, resamples: 4000 });
    near(ci.mean, mean, 1e-12);
    near(ci.low, mean - half, 0.1 * half);
    near(ci.high, mean + half, 0.1 * half);
  });

  it('rejects empty or non-finite values and bad options', () => {
    assert.throws(() => bootstrapMeanCi([], { seed: 1 }), /at least one value/);
    assert.throws(() => bootstrapMeanCi([1, Number.NaN], { seed: 1 }), /finite/);
    for (const resamples of [0, 2.5]) assert.throws(() => bootstrapMeanCi([1], { seed: 1, resamples }), /resamples/);
    for (const level of [0, 1, 1.5]) assert.throws(() => bootstrapMeanCi([1], { seed: 1, level }), /level/);
    assert.throws(() => bootstrapMeanCi([1], { seed: 0.5 }), /seed/);
  });
});

describe('paired bootstrap of differences', () => {
  const a = [0.5, 0.7, 0.2, 0.9, 0.4];
  const b = [0.3, 0.6, 0.3, 0.6, 0.2];

  it('is the bootstrap of the per-query differences under the same seed', () => {
    const ci = pairedBootstrapDiffCi(a, b, { seed: 21, resamples: 500 });
    assert.deepEqual(
      ci,
      bootstrapMeanCi(
        a.map((x, i) => x - b[i]!),
        { seed: 21, resamples: 500 },
      ),
    );
    near(ci.mean, 0.14, 1e-12);
    assert.ok(ci.low <= ci.mean && ci.mean <= ci.high);
    // A constant shift: every resample has the same mean difference.
    const shifted = pairedBootstrapDiffCi([0.5, 0.75], [0.25, 0.5], { seed: 1 });
    assert.deepEqual(shifted, { mean: 0.25, low: 0.25, high: 0.25 });
  });

  it('needs equal lengths', () => {
    assert.throws(() => pairedBootstrapDiffCi([1, 2], [1], { seed: 1 }), RangeError);
  });
});

describe('mean over seeds', () => {
  it('averages each query over the seeds, in the first seed’s order', () => {
    const out = meanOverSeeds([
      new Map([
        ['q2', 0.5],
        ['q1', 1],
      ]),
      new Map([
        ['q1', 0],
        ['q2', 0.25],
      ]),
      new Map([
        ['q2', 0],
        ['q1', 0.5],
      ]),
    ]);
    assert.deepEqual([...out], [
      ['q2', 0.25],
      ['q1', 0.5],
    ]);
  });

  it('names a query missing from a seed', () => {
    const full = new Map([
      ['q1', 1],
      ['q2', 1],
    ]);
    assert.throws(() => meanOverSeeds([full, new Map([['q1', 1]])]), /query q2 .*seed #1/);
    assert.throws(() => meanOverSeeds([new Map([['q1', 1]]), full]), /query q2 .*seed #1/);
    assert.throws(() => meanOverSeeds([]), /at least one seed/);
  });
});

describe('Student t CI', () => {
  it('inverts the two-sided p-value at tabled quantiles', () => {
    near(studentTCritical(0.95, 2), 4.302653, 1e-5);
    near(studentTCritical(0.95, 4), 2.776445, 1e-5);
    near(studentTCritical(0.95, 10), 2.228139, 1e-5);
    near(studentTCritical(0.99, 1), 63.656741, 1e-4);
    near(studentTCritical(0.9, 3), 2.353363, 1e-5);
    near(studentTTwoSidedP(studentTCritical(0.95, 7), 7), 0.05, 1e-12);
    assert.throws(() => studentTCritical(0.95, 0), /degrees of freedom/);
  });

  it('is mean +- t * sd / sqrt(n)', () => {
    // [1, 2, 3]: mean 2, sd 1; [1..5]: mean 3, sd sqrt(2.5)
    const three = tCi([1, 2, 3]);
    near(three.mean, 2, 1e-15);
    near(three.low, 2 - 4.302653 / Math.sqrt(3), 1e-5);
    near(three.high, 2 + 4.302653 / Math.sqrt(3), 1e-5);
    const five = tCi(new Float64Array([1, 2, 3, 4, 5]));
    near(five.low, 3 - (2.776445 * Math.sqrt(2.5)) / Math.sqrt(5), 1e-5);
    near(five.high, 3 + (2.776445 * Math.sqrt(2.5)) / Math.sqrt(5), 1e-5);
    const narrow = tCi([1, 2, 3, 4, 5], 0.5);
    assert.ok(five.low < narrow.low && narrow.high < five.high);
  });

  it('collapses to the mean for one value or no spread; rejects no values and a bad level', () => {
    assert.deepEqual(tCi([0.7]), { mean: 0.7, low: 0.7, high: 0.7 });
    assert.deepEqual(tCi([0.5, 0.5, 0.5]), { mean: 0.5, low: 0.5, high: 0.5 });
    assert.throws(() => tCi([]), /at least one value/);
    assert.throws(() => tCi([1, 2], 1), /level/);
  });
});
