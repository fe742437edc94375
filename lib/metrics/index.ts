export { evaluateRun, metricName, SPTAR_METRICS, type Evaluation, type EvaluateOptions, type Judgements, type MetricSpec, type RunScores } from './evaluate-run.ts';
export { MetricKinds, type MetricKind } from './query-metrics.ts';
export { pairedRandomizationTest, pairedTTest, type PairedTestResult } from './significance.ts';
export { rankForTrecEval, trecOrder, type ScoredDoc } from './trec-order.ts';
