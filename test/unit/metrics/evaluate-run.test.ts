import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluateRun, rankForTrecEval } from '../../../lib/metrics/index.ts';

const map = <V>(o: Record<string, V>) => new Map(Object.entries(o));
const nested = (o: Record<string, Record<string, number>>) => new Map(Object.entries(o).map(([k, v]) => [k, map(v)]));

// q1: graded judgements and a three-way score tie; q2: one relevant at rank 2; q3: judged but absent from the run;
// q4: judged, only non-relevant; q9: in the run but not judged (ignored).
const qrels = nested({ q1: { d1: 2, d2: 1, d3: 0, d4: 1 }, q2: { d5: 1 }, q3: { d6: 1 }, q4: { d7: 0 } });
const run = nested({
  q1: { d3: 5, d1: 4, dX: 4, d2: 4, d9: 1, d4: 0.5 },
  q2: { d8: 2, d5: 1 },
  q4: { d7: 3 },
  q9: { d1: 1 },
});

// Hand computation. q1 ranks by score, ties by docid descending: d3 dX d2 d1 d9 d4 -> grades 0 0 1 2 0 1.
//   DCG@10  = 1/log2(4) + 2/log2(5) + 1/log2(7) = 0.5 + 0.8613531 + 0.3562072 = 1.7175603
//   IDCG@10 = 2/log2(2) + 1/log2(3) + 1/log2(4) = 2 + 0.6309298 + 0.5         = 3.1309298  -> nDCG@10 0.5485784
//   nDCG@3  = 0.5 / 3.1309298 = 0.1596970
//   AP@100  = (1/3 + 2/4 + 3/6) / 3 = 0.4444444; Recall@4 = 2/3; MRR@10 = 1/3; MRR@2 = 0; P@5 = 2/5
// q2: d8 d5 -> nDCG = (1/log2 3) / 1 = 0.6309298; AP = 1/2; recall 1; MRR 1/2; P@5 = 1/5.
// q3 (missing) and q4 (nothing relevant) score 0 everywhere; means divide by 4 judged queries.
// (These values agree with trec_eval's ndcg_cut, map_cut, recall, recip_rank and P for q1, q2, q4.)
const Q1_NDCG10 = (0.5 + 2 / Math.log2(5) + 1 / Math.log2(7)) / (2 + 1 / Math.log2(3) + 0.5);

describe('trec_eval semantics', () => {
  it('orders by score, then by document id descending, ignoring insertion order', () => {
    assert.deepEqual(rankForTrecEval(run.get('q1')!).map((d) => d.id), ['d3', 'dX', 'd2', 'd1', 'd9', 'd4']);
  });

  it('computes per-query values by hand on ties, graded relevance and a missing query', () => {
    const ev = evaluateRun(qrels, run, {
      metrics: [
        { kind: 'ndcg', k: 10 },
        { kind: 'ndcg', k: 3 },
        { kind: 'map', k: 100 },
        { kind: 'recall', k: 4 },
        { kind: 'recall', k: 100 },
        { kind: 'mrr', k: 10 },
        { kind: 'mrr', k: 2 },
        { kind: 'precision', k: 5 },
      ],
    });
    assert.deepEqual(ev.queryIds, ['q1', 'q2', 'q3', 'q4']);
    assert.equal(ev.missingQueries, 1);
    const close = (name: string, expected: number[]) => {
      const got = [...ev.perQuery[name]!];
      expected.forEach((e, i) => assert.ok(Math.abs(got[i]! - e) < 1e-12, `${name}[${ev.queryIds[i]}] = ${got[i]}, expected ${e}`));
    };
    close('ndcg@10', [Q1_NDCG10, 1 / Math.log2(3), 0, 0]);
    assert.ok(Math.abs(Q1_NDCG10 - 0.5485784) < 1e-7);
    close('ndcg@3', [0.5 / (2 + 1 / Math.log2(3) + 0.5), 1 / Math.log2(3), 0, 0]);
    close('map@100', [4 / 9, 0.5, 0, 0]);
    close('recall@4', [2 / 3, 1, 0, 0]);
    close('recall@100', [1, 1, 0, 0]);
    close('mrr@10', [1 / 3, 0.5, 0, 0]);
    close('mrr@2', [0, 0.5, 0, 0]);
    close('precision@5', [0.4, 0.2, 0, 0]);
    assert.ok(Math.abs(ev.mean['ndcg@10']! - (Q1_NDCG10 + 1 / Math.log2(3)) / 4) < 1e-12);
    assert.ok(Math.abs(ev.mean['map@100']! - (4 / 9 + 0.5) / 4) < 1e-12);
  });

  it('uses the grade as gain: swapping the grades of d1 and d2 changes nDCG but not MAP', () => {
    const swapped = nested({ q1: { d1: 1, d2: 2, d3: 0, d4: 1 } });
    const a = evaluateRun(nested({ q1: { d1: 2, d2: 1, d3: 0, d4: 1 } }), run);
    const b = evaluateRun(swapped, run);
    // Swapped: grades 0 0 2 1 0 1 -> DCG = 2/2 + 1/log2(5) + 1/log2(7)
    const expected = (1 + 1 / Math.log2(5) + 1 / Math.log2(7)) / (2 + 1 / Math.log2(3) + 0.5);
    assert.ok(Math.abs(b.mean['ndcg@10']! - expected) < 1e-12);
    assert.notEqual(a.mean['ndcg@10'], b.mean['ndcg@10']);
    assert.equal(a.mean['map@100'], b.mean['map@100']);
  });

  it('drops a document equal to the query id only when asked (BEIR evaluator behaviour)', () => {
    const q = nested({ a: { b: 1 } });
    const r = nested({ a: { a: 9, b: 1 } });
    assert.equal(evaluateRun(q, r, { metrics: [{ kind: 'mrr', k: 10 }] }).mean['mrr@10'], 0.5);
    assert.equal(evaluateRun(q, r, { metrics: [{ kind: 'mrr', k: 10 }], ignoreIdenticalIds: true }).mean['mrr@10'], 1);
  });
});
