import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pipelineConfigSchema } from '../../../common/pipeline-config.ts';
import { indexDocuments } from '../../../lib/bm25/index.ts';
import { filterWeakPairs } from '../../../lib/weak-data/bm25-weak-filter.ts';

const corpus = [
  { _id: 'd1', text: 'insulin resistance in obese adults' },
  { _id: 'd2', text: 'insulin secretion by pancreatic beta cells' },
  { _id: 'd3', text: 'malaria vaccine trial in children' },
  { _id: 'd4', text: 'children sleep and screen time' },
];

describe('BM25 weak pair filter', () => {
  it('keeps a pair iff its source document is in the top k for its own query', async () => {
    const index = await indexDocuments(corpus);
    const pairs = [
      { queryId: 'w1', docId: 'd1', query: 'insulin resistance obesity' }, // d1 first
      { queryId: 'w2', docId: 'd2', query: 'insulin' }, // d1 (4 terms) outranks d2 (5 terms): rank 2
      { queryId: 'w3', docId: 'd3', query: 'malaria vaccine children' }, // d3 first, d4 second
      { queryId: 'w4', docId: 'd3', query: 'unrelated quantum gravity' }, // nothing retrieved
    ];
    const k1 = await filterWeakPairs(index, pairs, { topK: 1 });
    assert.deepEqual(k1.kept.map((p) => [p.queryId, p.rank]), [['w1', 1], ['w3', 1]]);
    assert.deepEqual(k1.stats, { topK: 1, total: 4, kept: 2, dropped: 2, retention: 0.5, rankedFirst: 2 });
    const k2 = await filterWeakPairs(index, pairs, { topK: 2 });
    assert.deepEqual(k2.kept.map((p) => [p.queryId, p.rank]), [['w1', 1], ['w2', 2], ['w3', 1]]);
    assert.equal(k2.stats.retention, 0.75);
  });

  it('keeps pairs at the configured default k = 70, reports progress and rejects a bad k', async () => {
    const index = await indexDocuments(corpus);
    const seen: number[] = [];
    const r = await filterWeakPairs(index, [{ queryId: 'a', docId: 'd4', query: 'children' }, { queryId: 'b', docId: 'd1', query: 'beta' }], {
      topK: pipelineConfigSchema.parse({}).weakFilter.topK,
      onProgress: (n) => seen.push(n),
      progressEvery: 1,
    });
    assert.equal(r.stats.topK, 70);
    assert.deepEqual(seen, [1, 2]);
    assert.deepEqual(r.kept.map((p) => p.queryId), ['a']);
    await assert.rejects(filterWeakPairs(index, [], { topK: 0 }), /positive integer/);
    assert.equal((await filterWeakPairs(index, [], { topK: 1 })).stats.retention, 0);
  });
});
