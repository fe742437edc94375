import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ReservoirSample } from '../../../lib/report/reservoir-sample.ts';
import { createPrng } from '../../../lib/random/prng.ts';

describe('reservoir sample', () => {
  it('keeps everything when the stream is shorter than k', () => {
    const s = new ReservoirSample<number>(5, createPrng(1).next);
    [1, 2, 3].forEach((x) => s.add(x));
    assert.deepEqual(s.sample, [1, 2, 3]);
    assert.equal(s.count, 3);
  });

  it('includes every item with probability k/n', () => {
    const n = 10;
    const k = 3;
    const runs = 20_000;
    const hits = new Array<number>(n).fill(0);
    const prng = createPrng(42, 'reservoir-test');
    for (let r = 0; r < runs; r++) {
      const s = new ReservoirSample<number>(k, prng.next);
      for (let i = 0; i < n; i++) s.add(i);
      for (const x of s.sample) hits[x]!++;
    }
    // Expected 6000 per item; the binomial standard deviation is about 65.
    for (const h of hits) assert.ok(Math.abs(h - (runs * k) / n) < 350, `inclusion counts ${hits.join(',')}`);
  });

  it('repeats for the same seed', () => {
    const take = (seed: number) => {
      const s = new ReservoirSample<number>(4, createPrng(seed).next);
      for (let i = 0; i < 100; i++) s.add(i);
      return [...s.sample];
    };
    assert.deepEqual(take(7), take(7));
    assert.notDeepEqual(take(7), take(8));
  });
});
