import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { topKDense } from '../../../lib/retrieval/dense-search.ts';

describe('exact dense search', () => {
  const docs = {
    ids: ['a', 'b', 'c', 'd', 'e'],
    dim: 2,
    data: new Float32Array([1, 0, 0, 1, 0.5, 0.5, -1, 0, 0.5, 0.5]),
  };

  it('returns the top-k by dot product, ties by id', () => {
    assert.deepEqual(topKDense(new Float32Array([1, 1]), docs, 3), [
      { id: 'a', score: 1 },
      { id: 'b', score: 1 },
      { id: 'c', score: 1 },
    ]);
    assert.deepEqual(topKDense(new Float32Array([2, 0]), docs, 2), [
      { id: 'a', score: 2 },
      { id: 'c', score: 1 },
    ]);
  });

  it('agrees with a full sort on random data', () => {
    let seed = 12345;
    const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32) - 0.5;
    const n = 500;
    const dim = 8;
    const data = new Float32Array(n * dim).map(() => rand());
    const ids = Array.from({ length: n }, (_, i) => `d${String(i).padStart(3, '0')}`);
    const q = new Float32Array(dim).map(() => rand());
    const all = ids
      .map((id, i) => ({ id, score: [...q].reduce((s, x, j) => s + x * data[i * dim + j]!, 0) }))
      .sort((a, b) => b.score - a.score);
    const got = topKDense(q, { ids, dim, data }, 10);
    assert.deepEqual(got.map((h) => h.id), all.slice(0, 10).map((h) => h.id));
  });

  it('names a dimension mismatch', () => {
    assert.throws(() => topKDense(new Float32Array(3), docs, 1), /query has dimension 3, documents have 2/);
  });
});
