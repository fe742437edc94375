import type { Metrics } from '../../common/pipeline-stages.ts';
import type { evaluateRun } from './evaluate-run.ts';

type Evaluation = ReturnType<typeof evaluateRun>;

/** Every system's test-query figures, as the report and the promotion gate read them (SPTAR's metric set). */
export function testMetrics(evaluation: Evaluation): Metrics {
  return {
    ndcg10: evaluation.mean['ndcg@10']!,
    map100: evaluation.mean['map@100']!,
    recall100: evaluation.mean['recall@100']!,
    mrr10: evaluation.mean['mrr@10']!,
    queries: evaluation.queryIds.length,
  };
}

/** Per-query scores as stored beside a run, for paired significance tests: `{queryIds, metrics: {name: number[]}}`. */
export function perQueryJson(evaluation: Evaluation): string {
  return JSON.stringify({ queryIds: evaluation.queryIds, metrics: Object.fromEntries(Object.entries(evaluation.perQuery).map(([k, v]) => [k, [...v]])) });
}

/** Hits kept per test query: MAP@100 and Recall@100 need the top 100. */
export const TEST_RUN_DEPTH = 100;
