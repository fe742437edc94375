import type { ArtifactStore } from './artifact-store/index.ts';
import { createBm25Activities } from './bm25-activities.ts';
import { createGenerationActivities } from './generation-activities.ts';
import { createLlmActivities } from './llm-activities.ts';
import { createPrepareActivities } from './prepare-activities.ts';
import { createReportActivities } from './report-activities.ts';
import { createRetrieverActivities } from './retriever-activities.ts';
import { createSmokeActivities } from './smoke-activities.ts';

export interface ActivityDeps {
  readonly store: ArtifactStore;
}

/** Activities for the orchestrator queue: reading the dataset, reports, cheap I/O. */
export function createOrchestratorActivities(deps: ActivityDeps) {
  return { ...createSmokeActivities(deps), ...createPrepareActivities(deps), ...createReportActivities(deps) };
}

/** Activities for the model queue: CPU-heavy work (BM25 indexing and search, the LLM stages, dense retrievers). */
export function createModelActivities(deps: ActivityDeps) {
  const { generatorFor, ...llm } = createLlmActivities(deps);
  return {
    ...createBm25Activities(deps),
    ...llm,
    ...createGenerationActivities({ store: deps.store, generatorFor }),
    ...createRetrieverActivities({ store: deps.store }),
  };
}
