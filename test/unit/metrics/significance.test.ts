import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pairedRandomizationTest, pairedTTest } from '../../../lib/metrics/significance.ts';
import { incompleteBeta, logGamma, studentTTwoSidedP } from '../../../lib/metrics/student-t.ts';
import { createPrng } from '../../../lib/random/prng.ts';

const near = (got: number, want: number, tol: number) => assert.ok(Math.abs(got - want) <= tol, `got ${got}, expected ${want} +- ${tol}`);

describe('Student t distribution', () => {
  it('matches closed forms', () => {
    near(logGamma(0.5), 0.5 * Math.log(Math.PI), 1e-12); // Γ(1/2) = sqrt(pi)
    near(logGamma(7), Math.log(720), 1e-12);
    near(incompleteBeta(0.3, 1, 1), 0.3, 1e-14);
    near(incompleteBeta(0.3, 2, 1), 0.09, 1e-14); // x^2
    // df = 1 is Cauchy: P(|T| >= t) = 1 - (2/pi) atan(t)
    near(studentTTwoSidedP(1, 1), 0.5, 1e-12);
    near(studentTTwoSidedP(3.5, 1), 1 - (2 / Math.PI) * Math.atan(3.5), 1e-12);
    // df = 2: P(|T| >= t) = 1 - t / sqrt(2 + t^2)
    near(studentTTwoSidedP(2, 2), 1 - 2 / Math.sqrt(6), 1e-12);
    near(studentTTwoSidedP(-0.7, 2), 1 - 0.7 / Math.sqrt(2.49), 1e-12);
    // Tabled critical value: t(0.975, 10) = 2.228139
    near(studentTTwoSidedP(2.228139, 10), 0.05, 1e-6);
    near(studentTTwoSidedP(1.959964, 1e6), 0.05, 1e-5); // approaches the normal
  });
});

describe('paired tests', () => {
  const a = [0.5, 0.7, 0.2, 0.9, 0.4];
  const b = [0.3, 0.6, 0.3, 0.6, 0.2];

  it('paired t-test by hand: d = [.2,.1,-.1,.3,.2], mean .14, sd .151658, t = 2.064187, df 4', () => {
    const r = pairedTTest(a, b);
    near(r.meanDifference, 0.14, 1e-12);
    near(r.t, 0.14 / (Math.sqrt(0.092 / 4) / Math.sqrt(5)), 1e-9);
    assert.equal(r.df, 4);
    // df 4: P(|T| >= t) = 1 - x(3 - x^2)/2... evaluated via the closed form for even df: 1 - (t/sqrt(4+t^2))(1 + 2/(4+t^2))
    const t = r.t;
    near(r.p, 1 - (t / Math.sqrt(4 + t * t)) * (1 + 2 / (4 + t * t)), 1e-10);
    assert.deepEqual(pairedTTest([1, 2], [1, 2]), { meanDifference: 0, t: 0, df: 1, p: 1 });
  });

  it('randomisation test: exact over 5 queries is 6/32 two-sided; the seeded estimate is close and repeatable', () => {
    // |d| = .2 .1 .1 .3 .2 (sum .9); a sign pattern reaches |sum| >= .7 iff its negated magnitudes sum to <= .1 or
    // >= .8: {}, {.1}, {.1'} and their three complements -> 6 of 32.
    const d = a.map((x, i) => x - b[i]!);
    let count = 0;
    for (let mask = 0; mask < 32; mask++) {
      const s = d.reduce((acc, v, i) => acc + ((mask >> i) & 1 ? -v : v), 0);
      if (Math.abs(s) >= 0.7 - 1e-12) count++;
    }
    assert.equal(count, 6);
    const r1 = pairedRandomizationTest(a, b, { random: createPrng(5).next, trials: 20000 });
    const r2 = pairedRandomizationTest(a, b, { random: createPrng(5).next, trials: 20000 });
    assert.equal(r1.p, r2.p);
    near(r1.p, 6 / 32, 0.01);
    assert.throws(() => pairedRandomizationTest([1], [1, 2], { random: createPrng(1).next }), /same queries/);
  });
});
