import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bestServedCandidate, promotionDecision } from '../../../lib/sptar/promotion-gate.ts';

const queryIds = Array.from({ length: 40 }, (_, i) => `q${String(i).padStart(2, '0')}`);
const scores = (f: (i: number) => number) => queryIds.map((_, i) => f(i));

describe('promotion gate', () => {
  it('serves the best replicate on dev, dense or fused with BM25', () => {
    const trained = [
      { system: 'sptar' as const, bestDevScore: 0.5, dev: { queryIds, ndcg10: scores(() => 0.5), fusion: { denseWeight: 0.3, devScore: 0.55, ndcg10: scores(() => 0.55), grid: [] } } },
      { system: 'sptar' as const, replicate: 1, bestDevScore: 0.6, dev: { queryIds, ndcg10: scores(() => 0.6), fusion: { denseWeight: 0.4, devScore: 0.58, ndcg10: scores(() => 0.58), grid: [] } } },
    ];
    const c = bestServedCandidate(trained);
    assert.deepEqual({ replicate: c.replicate, hybrid: c.hybrid, devScore: c.devScore }, { replicate: 1, hybrid: undefined, devScore: 0.6 });
    const fusedWins = bestServedCandidate([trained[0]!]);
    assert.deepEqual({ replicate: fusedWins.replicate, hybrid: fusedWins.hybrid, devScore: fusedWins.devScore }, { replicate: 0, hybrid: { denseWeight: 0.3 }, devScore: 0.55 });
  });

  it('promotes only a significant gain on the same dev queries', () => {
    const incumbent = { devScore: 0.5, dev: { queryIds, ndcg10: scores(() => 0.5) } };
    const better = { system: 'sptar' as const, replicate: 0, devScore: 0.6, dev: { queryIds, ndcg10: scores(() => 0.6) } };
    const d = promotionDecision(better, incumbent, { alpha: 0.05, seed: 1 });
    assert.equal(d.promoted, true);
    assert.ok(Math.abs(d.test!.meanDifference - 0.1) < 1e-12);
    // Every query gains: only the all-positive sign pattern is as extreme, p = (1 + ~2 * 10000 / 2^40) / 10001.
    assert.ok(d.test!.p < 0.001);
    // A higher mean from one query: not significant, the incumbent stays.
    const noisy = { ...better, devScore: 0.5125, dev: { queryIds, ndcg10: scores((i) => (i === 0 ? 1 : 0.5)) } };
    const n = promotionDecision(noisy, incumbent, { alpha: 0.05, seed: 1 });
    assert.equal(n.promoted, false);
    assert.ok(n.test!.p > 0.05);
    assert.match(n.reason, /not a significant gain/);
    // No incumbent: promoted; other dev queries: only means compare.
    assert.equal(promotionDecision(noisy, null, { alpha: 0.05, seed: 1 }).promoted, true);
    const other = promotionDecision(noisy, { devScore: 0.6 }, { alpha: 0.05, seed: 1 });
    assert.deepEqual({ promoted: other.promoted, test: other.test }, { promoted: false, test: null });
  });
});
