// The per-query test scores of evaluated systems, read back from their stored per-query JSON artifacts: the input
// of the report's significance tests and pooled results (the pipeline's report stage and bench:scifact).
import { z } from 'zod';
import type { SystemEvaluation } from '../../common/pipeline-stages.ts';
import type { ArtifactStore } from '../artifact-store/index.ts';
import { parseStoredJson } from '../artifact-store/stored-json.ts';

const perQuerySchema = z.object({ queryIds: z.array(z.string()), metrics: z.object({ 'ndcg@10': z.array(z.number()) }) });

/** Per-query test nDCG@10 of every evaluation, in their order, from their per-query JSON artifacts. */
export async function readPerQueryNdcg(
  store: ArtifactStore,
  evaluations: readonly SystemEvaluation[],
): Promise<{ system: SystemEvaluation['system']; queryIds: string[]; scores: number[] }[]> {
  const out = [];
  for (const e of evaluations) {
    const pq = parseStoredJson(await store.get(e.perQuery), e.perQuery.key, perQuerySchema, 'per-query metrics');
    out.push({ system: e.system, queryIds: pq.queryIds, scores: pq.metrics['ndcg@10'] });
  }
  return out;
}

