import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chooseFusionWeight, DEFAULT_FUSION_WEIGHTS, fuseMinMax, fuseRrf } from '../../../lib/retrieval/hybrid-fusion.ts';

type Run = Map<string, Map<string, number>>;
const run = (lists: Record<string, Record<string, number>>): Run => new Map(Object.entries(lists).map(([q, docs]) => [q, new Map(Object.entries(docs))]));
/** A fused run as ordered [query, [[doc, score], ...]] pairs, so that assertions check the ranking order too. */
const entries = (fused: Run) => [...fused].map(([q, docs]) => [q, [...docs]] as const);

describe('min-max fusion', () => {
  // q1: sparse normalises to d1 1, d2 (6-2)/8 = .5, d3 0 (d4 not retrieved); dense to d2 1, d3 .5, d4 0 (no d1).
  // q2: sparse is constant, so d1 = d2 = 1; dense normalises to d1 0, d3 1, d4 (.75-.25)/1 = .5.
  const sparse = run({ q1: { d1: 10, d2: 6, d3: 2 }, q2: { d1: 3, d2: 3 } });
  const dense = run({ q1: { d2: 0.9, d3: 0.5, d4: 0.1 }, q2: { d1: 0.25, d3: 1.25, d4: 0.75 } });

  it('w = .25: fused = .75 sparse + .25 dense, a document missing from a run scoring 0 there', () => {
    assert.deepEqual(entries(fuseMinMax(sparse, dense, 0.25)), [
      // d1 .75*1, d2 .75*.5 + .25*1, d3 .25*.5, d4 0
      [
        'q1',
        [
          ['d1', 0.75],
          ['d2', 0.625],
          ['d3', 0.125],
          ['d4', 0],
        ],
      ],
      // d1 .75*1 + .25*0 and d2 .75*1 tie: trec_eval order puts the larger id first; d3 .25*1, d4 .25*.5
      [
        'q2',
        [
          ['d2', 0.75],
          ['d1', 0.75],
          ['d3', 0.25],
          ['d4', 0.125],
        ],
      ],
    ]);
  });

  it('w = .5: a three-way tie ordered by document id descending; depth cuts after ordering', () => {
    const fused = fuseMinMax(sparse, dense, 0.5);
    // q1: d1 .5, d2 .25 + .5, d3 .25, d4 0
    assert.deepEqual([...fused.get('q1')!], [
      ['d2', 0.75],
      ['d1', 0.5],
      ['d3', 0.25],
      ['d4', 0],
    ]);
    // q2: d1 .5, d2 .5, d3 .5, d4 .25
    assert.deepEqual([...fused.get('q2')!], [
      ['d3', 0.5],
      ['d2', 0.5],
      ['d1', 0.5],
      ['d4', 0.25],
    ]);
    assert.deepEqual(entries(fuseMinMax(sparse, dense, 0.5, 2)), [
      [
        'q1',
        [
          ['d2', 0.75],
          ['d1', 0.5],
        ],
      ],
      [
        'q2',
        [
          ['d3', 0.5],
          ['d2', 0.5],
        ],
      ],
    ]);
  });

  it('weights 0 and 1 rank by one run alone, keeping the other run’s documents at 0', () => {
    assert.deepEqual([...fuseMinMax(sparse, dense, 0).get('q1')!], [
      ['d1', 1],
      ['d2', 0.5],
      ['d4', 0],
      ['d3', 0],
    ]);
    assert.deepEqual([...fuseMinMax(sparse, dense, 1).get('q1')!], [
      ['d2', 1],
      ['d3', 0.5],
      ['d4', 0],
      ['d1', 0],
    ]);
  });

  it('keeps queries of either run; an empty or missing list contributes nothing', () => {
    const s = run({ q1: { a: 2, b: 1 }, q3: {} });
    const d = run({ q2: { a: 7 }, q3: { c: 5, a: 1 } });
    assert.deepEqual(entries(fuseMinMax(s, d, 0.25)), [
      [
        'q1',
        [
          ['a', 0.75],
          ['b', 0],
        ],
      ],
      ['q2', [['a', 0.25]]],
      [
        'q3',
        [
          ['c', 0.25],
          ['a', 0],
        ],
      ],
    ]);
    assert.deepEqual(entries(fuseMinMax(run({ q: {} }), run({}), 0.5)), [['q', []]]);
  });

  it('rejects a weight outside [0, 1], a bad depth and non-finite scores', () => {
    for (const w of [-0.1, 1.1, Number.NaN]) assert.throws(() => fuseMinMax(sparse, dense, w), RangeError);
    for (const depth of [0, 1.5, -3]) assert.throws(() => fuseMinMax(sparse, dense, 0.5, depth), /depth/);
    assert.throws(() => fuseMinMax(run({ q: { a: Infinity } }), dense, 0.5), /finite/);
  });
});

describe('reciprocal rank fusion', () => {
  // q1 ranks: A d1 1, d2 2, d3 3; B d3 1, then d4 and d1 tie on .5 -> d4 2, d1 3 (larger id first).
  const a = run({ q1: { d1: 3, d2: 2, d3: 1 } });
  const b = run({ q1: { d3: 0.9, d1: 0.5, d4: 0.5 }, q2: { d2: 1 } });

  it('sums 1 / (k + rank) over the runs that retrieved the document', () => {
    // k = 1: d1 1/2 + 1/4, d3 1/4 + 1/2 (a tie: d3 first), d2 1/3, d4 1/3 (d4 first)
    assert.deepEqual(entries(fuseRrf([a, b], 1)), [
      [
        'q1',
        [
          ['d3', 0.75],
          ['d1', 0.75],
          ['d4', 1 / 3],
          ['d2', 1 / 3],
        ],
      ],
      ['q2', [['d2', 0.5]]],
    ]);
    const fused = fuseRrf([a, b]);
    assert.deepEqual([...fused.get('q1')!], [
      ['d3', 1 / 63 + 1 / 61],
      ['d1', 1 / 61 + 1 / 63],
      ['d4', 1 / 62],
      ['d2', 1 / 62],
    ]);
    assert.deepEqual([...fused.get('q2')!], [['d2', 1 / 61]]);
    assert.deepEqual([...fuseRrf([a, b], 60, 1).get('q1')!], [['d3', 1 / 63 + 1 / 61]]);
    assert.equal(fuseRrf([]).size, 0);
  });

  it('rejects a bad k or depth', () => {
    for (const k of [-1, Number.NaN, Infinity]) assert.throws(() => fuseRrf([a], k), /RRF k/);
    assert.throws(() => fuseRrf([a], 60, 0), /depth/);
  });
});

describe('choosing the fusion weight', () => {
  // q1 (relevant a): sparse ranks x over a; dense ranks a first. Fused a = .2(1-w) + w beats x = 1 - w iff w > 4/9.
  // q2 (relevant b): dense ranks y over b; sparse ranks b first. Fused b = (1-w) + .2w beats y = w iff w < 5/9.
  // Only w = .5 puts both relevant documents first; elsewhere one of them is second: nDCG@10 1/log2(3).
  const qrels = run({ q1: { a: 1 }, q2: { b: 1 } });
  const sparse = run({ q1: { x: 5, a: 1, z: 0 }, q2: { b: 5, z: 1, y: 0 } });
  const dense = run({ q1: { a: 5, z: 1, x: 0 }, q2: { y: 5, b: 1, z: 0 } });
  const oneSecond = (1 + 1 / Math.log2(3)) / 2;

  it('picks the weight where each query gets its better retriever', () => {
    const choice = chooseFusionWeight(qrels, sparse, dense);
    assert.equal(choice.weight, 0.5);
    assert.equal(choice.score, 1);
    assert.deepEqual(
      choice.scores.map((s) => s.weight),
      [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1],
    );
    choice.scores.forEach((s) => {
      if (s.weight === 0.5) return;
      assert.ok(Math.abs(s.score - oneSecond) < 1e-12, `weight ${s.weight} scored ${s.score}`);
    });
    assert.deepEqual(DEFAULT_FUSION_WEIGHTS, [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1]);
  });

  it('breaks ties towards the smaller weight (closer to BM25), whatever the grid order', () => {
    const choice = chooseFusionWeight(qrels, sparse, dense, { weights: [0.9, 0.3, 1, 0] });
    assert.equal(choice.weight, 0);
    assert.deepEqual(
      choice.scores.map((s) => s.weight),
      [0.9, 0.3, 1, 0],
    );
    assert.equal(chooseFusionWeight(qrels, sparse, dense, { weights: [0.7, 0.2], metric: 'ndcg@10' }).weight, 0.2);
  });

  it('rejects an empty grid, a weight outside [0, 1] and an unknown metric', () => {
    assert.throws(() => chooseFusionWeight(qrels, sparse, dense, { weights: [] }), /at least one weight/);
    assert.throws(() => chooseFusionWeight(qrels, sparse, dense, { weights: [0.5, 1.5] }), /dense weight/);
    assert.throws(() => chooseFusionWeight(qrels, sparse, dense, { metric: 'map@100' as 'ndcg@10' }), /unsupported/);
  });
});
