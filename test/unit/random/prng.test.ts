import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createPrng, Mulberry32, sampleWithoutReplacement, shuffled, shuffledIndices, type Prng } from '../../../lib/random/prng.ts';

describe('xoshiro128** generator (createPrng)', () => {
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

  it('permutes indices exactly as an inline Fisher-Yates over [0..n-1] does', () => {
    const inline = (n: number, rng: Prng): number[] => {
      const order = Array.from({ length: n }, (_, i) => i);
      for (let i = n - 1; i > 0; i--) {
        const j = rng.int(i + 1);
        [order[i], order[j]] = [order[j]!, order[i]!];
      }
      return order;
    };
    for (const n of [0, 1, 2, 10, 257]) assert.deepEqual(shuffledIndices(n, createPrng(7, `n-${n}`)), inline(n, createPrng(7, `n-${n}`)));
    assert.deepEqual(shuffledIndices(10, createPrng(3, 'x')), [4, 5, 0, 6, 1, 7, 9, 2, 3, 8]);
    assert.deepEqual(shuffledIndices(10, createPrng(3, 'x')), shuffled([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], createPrng(3, 'x')));
  });
});

describe('mulberry32 generator (Mulberry32)', () => {
  it('produces the sequence the generation sampler and the tiny random models were pinned with', () => {
    const g = new Mulberry32(42);
    assert.deepEqual(
      Array.from({ length: 5 }, () => g.next()),
      [0.6011037519201636, 0.44829055899754167, 0.8524657934904099, 0.6697340414393693, 0.17481389874592423],
    );
    const h = new Mulberry32(7);
    assert.deepEqual([h.int(10), h.int(10), h.int(1000), h.uniform(0.5)], [0, 0, 976, 0.19902870571240783]);
    assert.deepEqual(Array.from(h.floats(3, 0.1)), [0.004289053846150637, -0.01889566332101822, -0.0067534735426306725]);
    assert.equal(new Mulberry32(-3).next(), 0.5127934608608484);
  });

  it('can hand out `next` detached and rejects non-integer seeds', () => {
    const detached = new Mulberry32(42).next;
    assert.equal(detached(), 0.6011037519201636);
    assert.equal(new Mulberry32(42).nextUint32(), Math.round(0.6011037519201636 * 4294967296));
    assert.throws(() => new Mulberry32(0.5), /seed must be an integer/);
  });
});
