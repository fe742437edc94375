import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SystemEvaluation } from '../../../common/pipeline-stages.ts';
import type { TrainedRetriever } from '../../../common/retriever-types.ts';
import { devTestAgreement, groupEvaluations, pooledSignificance, weakFilterSummary, type EvaluatedScores } from '../../../lib/report/pooled-results.ts';
import { averageRanks, spearman } from '../../../lib/report/rank-correlation.ts';

const ref = { key: 'k', sha256: '0'.repeat(64), bytes: 0 };
const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) < 1e-9, `${what}: ${a} vs ${b}`);

function evaluated(system: SystemEvaluation['system'], ndcg: number[], extra: Partial<SystemEvaluation> = {}): EvaluatedScores {
  const m = ndcg.reduce((s, x) => s + x, 0) / ndcg.length;
  return {
    evaluation: { system, metrics: { ndcg10: m, map100: m, recall100: 1, mrr10: m, queries: ndcg.length }, run: ref, perQuery: ref, ...extra },
    queryIds: ndcg.map((_, i) => `q${i + 1}`),
    scores: ndcg,
  };
}

describe('groupEvaluations', () => {
  const runs = [
    evaluated('bm25', [0.2, 0.4]),
    evaluated('sptar', [0.8, 0.6], { replicate: 2 }),
    evaluated('sptar', [0.4, 0.6]),
    evaluated('sptar', [0.6, 0.6], { replicate: 1 }),
    evaluated('sptar', [0.7, 0.7], { hybrid: { denseWeight: 0.3 } }),
  ];

  it('groups by system and variant in first-seen order, replicates sorted, with means and a t-CI of nDCG@10', () => {
    const groups = groupEvaluations(runs);
    assert.deepEqual(groups.map((g) => [g.name, g.variant, g.replicates.map((r) => r.replicate)]), [
      ['BM25', 'dense', [0]],
      ['SPTAR', 'dense', [0, 1, 2]],
      ['SPTAR + BM25 hybrid', 'hybrid', [0]],
    ]);
    const sptar = groups[1]!;
    // Replicate means 0.5, 0.6, 0.7: mean 0.6, sd 0.1, t_{0.975, 2} = 4.302653 -> 0.6 +- 0.248414.
    close(sptar.mean.ndcg10, 0.6, 'mean');
    close(sptar.ndcg10Ci95!.low, 0.6 - (4.302652729749464 * 0.1) / Math.sqrt(3), 'low');
    close(sptar.ndcg10Ci95!.high, 0.6 + (4.302652729749464 * 0.1) / Math.sqrt(3), 'high');
    // Per query over the replicates: q1 (0.4 + 0.6 + 0.8) / 3, q2 0.6.
    assert.deepEqual(sptar.pooled.queryIds, ['q1', 'q2']);
    close(sptar.pooled.scores[0]!, 0.6, 'q1');
    close(sptar.pooled.scores[1]!, 0.6, 'q2');
    assert.equal(groups[0]!.ndcg10Ci95, null);
    assert.deepEqual(groups[0]!.mean, runs[0]!.evaluation.metrics, 'one replicate: its metrics exactly');
    assert.equal(groups[2]!.replicates[0]!.denseWeight, 0.3);
  });

  it('refuses two evaluations of one replicate', () => {
    assert.throws(() => groupEvaluations([evaluated('wo', [0.1]), evaluated('wo', [0.2])]), /W\/O \(labeled pairs only\) has two evaluations of replicate 0/);
  });

  it('compares SPTAR dense with the dense systems and SPTAR hybrid with the hybrids and BM25', () => {
    const groups = groupEvaluations([...runs, evaluated('wo', [0.5, 0.5], { hybrid: { denseWeight: 0.5 } }), evaluated('wo', [0.3, 0.3])]);
    const s = pooledSignificance(groups, 13);
    assert.deepEqual(s.dense!.rows.map((r) => r.system), ['BM25', 'W/O (labeled pairs only)']);
    assert.deepEqual(s.dense!.otherKeys, ['bm25', 'wo']);
    assert.equal(s.dense!.replicates, 3);
    close(s.dense!.rows[0]!.meanDifference, 0.3, 'SPTAR - BM25');
    assert.deepEqual(s.hybrid!.rows.map((r) => r.system), ['W/O (labeled pairs only) + BM25 hybrid', 'BM25']);
    assert.equal(s.hybrid!.referenceKey, 'sptar-hybrid');
    close(s.hybrid!.rows[1]!.meanDifference, 0.4, 'SPTAR hybrid - BM25');
    // Constant differences: the bootstrap CI has no width.
    close(s.hybrid!.rows[0]!.diffCi95!.low, 0.2, 'low');
    close(s.hybrid!.rows[0]!.diffCi95!.high, 0.2, 'high');
    assert.equal(pooledSignificance(groupEvaluations(runs.slice(0, 2)), 13).hybrid, null);
  });
});

const trained = (system: TrainedRetriever['system'], replicate: number, devScore: number, extra: Partial<TrainedRetriever> = {}): TrainedRetriever => ({
  system,
  encoder: ref,
  encoderConfig: ref,
  curve: [],
  bestEpoch: 1,
  bestDevScore: devScore,
  weakEpochs: 0,
  counts: { labeledPairs: 1, weakPairs: 0, devQueries: 2 },
  ...(replicate > 0 ? { replicate } : {}),
  ...extra,
});

describe('devTestAgreement', () => {
  it('pairs every trained (system, replicate, variant) with its test score', () => {
    const evaluations = [
      evaluated('bm25', [0.9]).evaluation,
      evaluated('wo', [0.5]).evaluation,
      evaluated('wo', [0.4], { replicate: 1 }).evaluation,
      evaluated('sptar', [0.6]).evaluation,
      evaluated('sptar', [0.8], { hybrid: { denseWeight: 0.5 } }).evaluation,
    ];
    const fusion = { denseWeight: 0.5, devScore: 0.35, ndcg10: [0.35], grid: [] };
    const a = devTestAgreement(evaluations, [trained('wo', 0, 0.2), trained('wo', 1, 0.3), trained('sptar', 0, 0.25, { dev: { queryIds: ['d'], ndcg10: [0.25], fusion } })]);
    assert.deepEqual(a.points.map((p) => [p.system, p.replicate, p.variant, p.dev, p.test]), [
      ['wo', 0, 'dense', 0.2, 0.5],
      ['wo', 1, 'dense', 0.3, 0.4],
      ['sptar', 0, 'dense', 0.25, 0.6],
      ['sptar', 0, 'hybrid', 0.35, 0.8],
    ]);
    // Dev ranks 1, 3, 2, 4 against test ranks 2, 1, 3, 4: d^2 = 1 + 4 + 1 + 0 = 6, rho = 1 - 36 / 60 = 0.4.
    close(a.spearman!, 0.4, 'rho');
  });
});

describe('spearman', () => {
  it('gives tied values their mean rank', () => {
    assert.deepEqual(averageRanks([0.3, 0.1, 0.3, 0.2]), [3.5, 1, 3.5, 2]);
    close(spearman([1, 2, 3], [30, 20, 10])!, -1, 'reversed');
    // Ranks [1, 2.5, 2.5] against [1, 2, 3]: Pearson of the ranks = 0.866025.
    close(spearman([1, 2, 2], [1, 2, 3])!, Math.sqrt(3) / 2, 'tied');
    assert.equal(spearman([1], [2]), null);
    assert.equal(spearman([1, 1], [1, 2]), null);
  });
});

describe('weakFilterSummary', () => {
  const copy = { pairs: 1, meanOverlap: 0.5, meanSpanShare: 0.3, spanCopyRate: 0.1 };
  const stats = (bm25Kept: number, afterCopyFilter: number, afterDenseRoundTrip: number) => ({ bm25Kept, afterCopyFilter, afterDenseRoundTrip, copyRate: { weak: copy, kept: copy, labeled: copy } });
  const settings = { backend: 'compact' as const, topK: 70, k1: 0.9, b: 0.4, maxOverlap: 0.7, maxSpanShare: null, denseTopK: 50 };

  it('takes each system once, from its first replicate, with shares of the BM25-kept pairs', () => {
    const s = weakFilterSummary(
      [trained('wo', 0, 0.1), trained('sptar', 1, 0.1, { weakFilters: stats(9, 9, 9) }), trained('inpars', 0, 0.1, { weakFilters: stats(0, 0, 0) }), trained('sptar', 0, 0.1, { weakFilters: stats(80, 60, 20) })],
      settings,
    )!;
    assert.deepEqual(s.rows.map((r) => [r.system, r.bm25Kept, r.afterCopyFilter, r.afterDenseRoundTrip, r.copyFilterShare, r.denseRoundTripShare]), [
      ['sptar', 80, 60, 20, 0.75, 0.25],
      ['inpars', 0, 0, 0, null, null],
    ]);
    assert.deepEqual([s.maxOverlap, s.maxSpanShare, s.denseTopK], [0.7, null, 50]);
    assert.equal(weakFilterSummary([trained('wo', 0, 0.1)], settings), null);
  });
});
