// Evaluates a run against qrels the way `trec_eval -c` does: the average is over every query in the qrels, and a
// judged query missing from the run scores 0 on every metric. Run queries without judgements are ignored.
import { averagePrecisionAt, ndcgAt, precisionAt, recallAt, reciprocalRankAt, type MetricKind } from './query-metrics.ts';
import { rankForTrecEval } from './trec-order.ts';

type Judgements = ReadonlyMap<string, ReadonlyMap<string, number>>;
type RunScores = ReadonlyMap<string, ReadonlyMap<string, number>>;

interface MetricSpec {
  readonly kind: MetricKind;
  readonly k: number;
}

/** The paper's four headline metrics. */
const SPTAR_METRICS: readonly MetricSpec[] = [
  { kind: 'ndcg', k: 10 },
  { kind: 'map', k: 100 },
  { kind: 'recall', k: 100 },
  { kind: 'mrr', k: 10 },
];

const metricName = (m: MetricSpec): string => `${m.kind}@${m.k}`;

interface EvaluateOptions {
  readonly metrics?: readonly MetricSpec[];
  /** BEIR's evaluator drops a retrieved document whose id equals the query id; off by default, as in trec_eval. */
  readonly ignoreIdenticalIds?: boolean;
}

interface Evaluation {
  /** Metric name (e.g. "ndcg@10") -> mean over all judged queries. */
  readonly mean: Readonly<Record<string, number>>;
  /** Metric name -> score per judged query, in `queryIds` order: the input of significance tests. */
  readonly perQuery: Readonly<Record<string, Float64Array>>;
  /** Judged query ids, sorted, the order of every perQuery array. */
  readonly queryIds: readonly string[];
  /** Judged queries absent from the run (each scored 0). */
  readonly missingQueries: number;
}

export function evaluateRun(qrels: Judgements, run: RunScores, options: EvaluateOptions = {}): Evaluation {
  const metrics = options.metrics ?? SPTAR_METRICS;
  for (const m of metrics) if (!Number.isInteger(m.k) || m.k < 1) throw new RangeError(`metric ${metricName(m)}: k must be a positive integer`);
  const queryIds = [...qrels.keys()].sort();
  const perQuery: Record<string, Float64Array> = {};
  for (const m of metrics) perQuery[metricName(m)] = new Float64Array(queryIds.length);
  let missing = 0;
  queryIds.forEach((qid, qi) => {
    const judged = qrels.get(qid)!;
    const scores = run.get(qid);
    if (!scores) {
      missing++;
      return;
    }
    let ranked = rankForTrecEval(scores);
    if (options.ignoreIdenticalIds) ranked = ranked.filter((d) => d.id !== qid);
    const grades = ranked.map((d) => judged.get(d.id) ?? 0);
    const judgedGrades = [...judged.values()];
    const numRelevant = judgedGrades.filter((g) => g > 0).length;
    for (const m of metrics) {
      perQuery[metricName(m)]![qi] = scoreOne(m, grades, judgedGrades, numRelevant);
    }
  });
  const mean: Record<string, number> = {};
  for (const m of metrics) {
    const values = perQuery[metricName(m)]!;
    mean[metricName(m)] = queryIds.length === 0 ? 0 : values.reduce((s, v) => s + v, 0) / queryIds.length;
  }
  return { mean, perQuery, queryIds, missingQueries: missing };
}

function scoreOne(m: MetricSpec, grades: readonly number[], judged: readonly number[], numRelevant: number): number {
  switch (m.kind) {
    case 'ndcg':
      return ndcgAt(grades, judged, m.k);
    case 'map':
      return averagePrecisionAt(grades, numRelevant, m.k);
    case 'recall':
      return recallAt(grades, numRelevant, m.k);
    case 'mrr':
      return reciprocalRankAt(grades, m.k);
    case 'precision':
      return precisionAt(grades, m.k);
  }
}
