import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compareAgainst } from '../../../lib/report/paired-significance.ts';

describe('compareAgainst', () => {
  const ref = { system: 'SPTAR', queryIds: ['a', 'b', 'c'], scores: [0.5, 0.6, 0.7] };

  it('matches the exact tests for three differences 0.1, 0.2, 0.3', () => {
    const [row] = compareAgainst(ref, [{ system: 'BM25', queryIds: ['a', 'b', 'c'], scores: [0.4, 0.4, 0.4] }], { seed: 13, trials: 20_000 });
    assert.ok(row);
    assert.equal(row.queries, 3);
    assert.ok(Math.abs(row.meanDifference - 0.2) < 1e-12);
    // Of the 8 sign patterns only the two all-equal ones reach |sum| = 0.6.
    assert.ok(Math.abs(row.randomizationP - 0.25) < 0.015, `randomization p ${row.randomizationP}`);
    // t = 2 / (1 / sqrt 3) on 2 df: two-sided p = 1 - t / sqrt(2 + t^2) = 1 - sqrt(6/7).
    assert.ok(Math.abs(row.tTestP! - (1 - Math.sqrt(6 / 7))) < 1e-9, `t-test p ${row.tTestP}`);
  });

  it('aligns the other system by query id and repeats for the same seed', () => {
    const other = { system: 'InPars', queryIds: ['c', 'a', 'b'], scores: [0.4, 0.5, 0.6] };
    const [row] = compareAgainst(ref, [other], { seed: 1, trials: 500 });
    assert.ok(Math.abs(row!.meanDifference - 0.1) < 1e-12);
    assert.equal(row!.randomizationP, 1);
    assert.ok(Math.abs(row!.tTestP! - (1 - 1 / Math.sqrt(3))) < 1e-9);
    const twice = compareAgainst(ref, [{ system: 'X', queryIds: ['a', 'b', 'c'], scores: [0.45, 0.7, 0.5] }], { seed: 5, trials: 300 });
    assert.deepEqual(twice, compareAgainst(ref, [{ system: 'X', queryIds: ['a', 'b', 'c'], scores: [0.45, 0.7, 0.5] }], { seed: 5, trials: 300 }));
  });

  it('adds a seeded paired bootstrap CI of the mean difference when asked for resamples', () => {
    const other = { system: 'BM25', queryIds: ['a', 'b', 'c'], scores: [0.4, 0.4, 0.4] };
    assert.equal(compareAgainst(ref, [other], { seed: 13, trials: 100 })[0]!.diffCi95, undefined);
    const [row] = compareAgainst(ref, [other], { seed: 13, trials: 100, resamples: 2000 });
    // Differences 0.1, 0.2, 0.3: every resample's mean lies in [0.1, 0.3], and the interval holds the mean.
    const ci = row!.diffCi95!;
    assert.ok(ci.low >= 0.1 - 1e-12 && ci.low < 0.2 && ci.high > 0.2 && ci.high <= 0.3 + 1e-12, JSON.stringify(ci));
    assert.deepEqual(compareAgainst(ref, [other], { seed: 13, trials: 100, resamples: 2000 })[0]!.diffCi95, ci);
  });

  it('names both systems when their queries differ', () => {
    assert.throws(() => compareAgainst(ref, [{ system: 'BM25', queryIds: ['a', 'b', 'x'], scores: [1, 1, 1] }], { seed: 1, trials: 10 }), /query c is evaluated for SPTAR but not for BM25/);
    assert.throws(() => compareAgainst(ref, [{ system: 'BM25', queryIds: ['a', 'b'], scores: [1, 1] }], { seed: 1, trials: 10 }), /SPTAR has 3 evaluated queries and BM25 2/);
  });
});
