import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { lengthSortedOrder, paddedPromptPositions, restoreShardOrder } from '../../../lib/sptar/length-sorted-batches.ts';

describe('length-sorted batch order', () => {
  it('sorts shard positions by length, ties in shard order, undecoded documents first', () => {
    assert.deepEqual(lengthSortedOrder([30, 10, 20, 10, -1, 30, 5]), [4, 6, 1, 3, 2, 0, 5]);
    assert.deepEqual(lengthSortedOrder([]), []);
    assert.deepEqual(lengthSortedOrder([7, 7, 7]), [0, 1, 2]);
  });

  it('puts outcomes in processing order back in shard order', () => {
    const order = [4, 6, 1, 3, 2, 0, 5];
    const processed = order.map((p) => `outcome of ${p}`);
    assert.deepEqual(restoreShardOrder(processed, order), [0, 1, 2, 3, 4, 5, 6].map((p) => `outcome of ${p}`));
    assert.throws(() => restoreShardOrder(['a', 'b'], [0]), /2 outcomes for 1 shard positions/);
    assert.throws(() => restoreShardOrder(['a', 'b'], [1, 1]), /repeats or leaves out shard position 1/);
  });

  it('counts the prompt positions a batch order pays, padding included', () => {
    const lengths = [30, 10, 20, 10, -1, 30, 5];
    // Shard order in batches of 3: [30 10 20] -> 3 x 30, [10 - 30] -> 2 x 30 (the undecoded one is no row), [5] -> 5.
    assert.equal(paddedPromptPositions(lengths, [0, 1, 2, 3, 4, 5, 6], 3), 90 + 60 + 5);
    // Sorted: [- 5 10] -> 2 x 10, [10 20 30] -> 3 x 30, [30] -> 30.
    assert.equal(paddedPromptPositions(lengths, lengthSortedOrder(lengths), 3), 20 + 90 + 30);
  });
});
