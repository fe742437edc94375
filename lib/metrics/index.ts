export { bootstrapMeanCi, meanOverSeeds, pairedBootstrapDiffCi, studentTCritical, tCi, type BootstrapOptions, type MeanCi } from './bootstrap.ts';
export { evaluateRun } from './evaluate-run.ts';
export type { MetricKind } from './query-metrics.ts';
export { pairedRandomizationTest, pairedTTest } from './significance.ts';
export { rankForTrecEval, trecOrder } from './trec-order.ts';
export { perQueryJson, TEST_RUN_DEPTH, testMetrics } from './test-metrics.ts';
