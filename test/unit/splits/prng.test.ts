import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createPrng, sampleWithoutReplacement, shuffled } from '../../../lib/splits/prng.ts';

describe('seeded generator', () => {
  it('produces the reference xoshiro128** words (cross-checked with an independent big-integer implementation)', () => {
    const first4 = (seed: number, stream = '') => {
      const g = createPrng(seed, stream);
      return [g.nextUint32(), g.nextUint32(), g.nextUint32(), g.nextUint32()];
    };
    assert.deepEqual(first4(0), [2316360459, 156713514, 288792635, 204408599]);
    assert.deepEqual(first4(13), [381494975, 1028136987, 2772884769, 2395039445]);
    assert.deepEqual(first4(-1), [3366981748, 2275230016, 3922002756, 4167268905]);
    assert.deepEqual(first4(2 ** 40 + 5), [1296906382, 3189238977, 127337257, 2554885547]);
    assert.deepEqual(first4(13, 'unlabeled'), [984637557, 713734082, 3073950286, 4293198609]);
  });

  it('maps to [0, 1) and to integers in range with roughly uniform frequencies', () => {
    const g = createPrng(99);
    const counts = new Array<number>(10).fill(0);
    for (let i = 0; i < 100_000; i++) {
      const x = g.next();
      assert.ok(x >= 0 && x < 1);
      counts[g.int(10)]!++;
    }
    for (const c of counts) assert.ok(Math.abs(c - 10_000) < 500, `bucket count ${c}`);
    assert.throws(() => g.int(0), /int\(n\) needs/);
    assert.throws(() => createPrng(0.5), /safe integer/);
  });

  it('shuffles and samples reproducibly', () => {
    const items = ['a', 'b', 'c', 'd', 'e', 'f'];
    assert.deepEqual(shuffled(items, createPrng(1)), shuffled(items, createPrng(1)));
    assert.deepEqual([...shuffled(items, createPrng(1))].sort(), items);
    const s = sampleWithoutReplacement(items, 3, createPrng(2));
    assert.equal(new Set(s).size, 3);
    assert.deepEqual(s, sampleWithoutReplacement(items, 3, createPrng(2)));
  });
});
