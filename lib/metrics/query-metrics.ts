// Per-query metrics with trec_eval's definitions (trec_eval 9.x: ndcg_cut, map_cut, recall, recip_rank).
// A document is relevant when its grade is > 0 (trec_eval's default relevance level 1 on integer grades);
// nDCG uses the grade itself as gain. Denominators use every relevant judged document, retrieved or not.

/** Grades of the ranked documents (0 for unjudged), best first. */
type RankedGrades = readonly number[];

const MetricKinds = ['ndcg', 'map', 'recall', 'mrr', 'precision'] as const;
export type MetricKind = (typeof MetricKinds)[number];

const discount = (rank0: number): number => Math.log2(rank0 + 2);

/** nDCG@k: DCG of the run's top k over DCG of the ideal ordering of all judged grades, both cut at k. */
export function ndcgAt(grades: RankedGrades, judged: readonly number[], k: number): number {
  let dcg = 0;
  for (let i = 0; i < Math.min(k, grades.length); i++) {
    const g = grades[i]!;
    if (g > 0) dcg += g / discount(i);
  }
  const ideal = judged.filter((g) => g > 0).sort((a, b) => b - a);
  let idcg = 0;
  for (let i = 0; i < Math.min(k, ideal.length); i++) idcg += ideal[i]! / discount(i);
  return idcg > 0 ? dcg / idcg : 0;
}

/** AP cut at k: precision at each relevant rank <= k, summed, over the number of relevant judged documents. */
export function averagePrecisionAt(grades: RankedGrades, numRelevant: number, k: number): number {
  if (numRelevant === 0) return 0;
  let hits = 0;
  let sum = 0;
  for (let i = 0; i < Math.min(k, grades.length); i++) {
    if (grades[i]! > 0) {
      hits++;
      sum += hits / (i + 1);
    }
  }
  return sum / numRelevant;
}

export function recallAt(grades: RankedGrades, numRelevant: number, k: number): number {
  if (numRelevant === 0) return 0;
  let hits = 0;
  for (let i = 0; i < Math.min(k, grades.length); i++) if (grades[i]! > 0) hits++;
  return hits / numRelevant;
}

/** Precision@k divides by k even when fewer documents were retrieved, as trec_eval's P_k does. */
export function precisionAt(grades: RankedGrades, k: number): number {
  let hits = 0;
  for (let i = 0; i < Math.min(k, grades.length); i++) if (grades[i]! > 0) hits++;
  return hits / k;
}

/** Reciprocal rank of the first relevant document within the top k, 0 if none. */
export function reciprocalRankAt(grades: RankedGrades, k: number): number {
  for (let i = 0; i < Math.min(k, grades.length); i++) if (grades[i]! > 0) return 1 / (i + 1);
  return 0;
}
