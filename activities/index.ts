import type { ArtifactStore } from '../lib/artifact-store/index.ts';
import { environmentDataRoots, requireModelInDataRoots, type DataRoots } from '../lib/data-roots/data-roots.ts';
import type { EncoderSource } from '../lib/models/encoder-source.ts';
import { createBm25Activities } from './bm25-activities.ts';
import { createGenerationActivities } from './generation-activities.ts';
import { createLlmActivities } from './llm-activities.ts';
import { createPrepareActivities } from './prepare-activities.ts';
import { createPromotionActivities } from './promotion-activities.ts';
import { createReportActivities } from './report-activities.ts';
import { createRetrieverActivities } from './retriever-activities.ts';
import { createSmokeActivities } from './smoke-activities.ts';

export interface ActivityDeps {
  readonly store: ArtifactStore;
  /** Folders the files a config names must lie in (worker settings); default the environment's `SPTAR_DATA_ROOTS`. */
  readonly dataRoots?: DataRoots;
}

/** Activities for the orchestrator queue: reading the dataset, reports, cheap I/O. */
export function createOrchestratorActivities(deps: ActivityDeps) {
  return { ...createSmokeActivities(deps), ...createPrepareActivities(deps), ...createReportActivities(deps), ...createPromotionActivities() };
}

/** Activities for the model queue: CPU-heavy work (BM25 indexing and search, the LLM stages, dense retrievers). */
export function createModelActivities(deps: ActivityDeps) {
  const { generatorFor, releaseModels, ...llm } = createLlmActivities(deps);
  return {
    ...createBm25Activities(deps),
    ...llm,
    ...createGenerationActivities({ store: deps.store, generatorFor }),
    // The LLM's sessions stay loaded between LLM activities (shards reuse them); dense retriever work releases them
    // first. On SciFact, a worker that kept the prompt-tuning and both generators' sessions reached 23.7 GB resident
    // in retriever training (a 24 GiB machine without swap stalled); a worker holding no LLM peaked near 9 GB.
    // A configured encoder outside the data roots is refused before anything is released or loaded.
    ...encoderInDataRoots(releasingFirst(createRetrieverActivities({ store: deps.store }), releaseModels), deps.dataRoots ?? environmentDataRoots()),
  };
}

/** The activities, each refusing a configured encoder (`input.config.encoder`) outside the data roots before it starts. */
export function encoderInDataRoots<T extends Record<string, (...args: never[]) => Promise<unknown>>>(activities: T, roots: DataRoots): T {
  const wrapped: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(activities)) {
    wrapped[name] = async (...args: never[]) => {
      const encoder = (args[0] as { config?: { encoder?: EncoderSource } } | undefined)?.config?.encoder;
      if (encoder) requireModelInDataRoots('encoder', encoder, roots);
      return fn(...args);
    };
  }
  return wrapped as T;
}

/** The same activities, each awaiting `release` before it starts. */
export function releasingFirst<T extends Record<string, (...args: never[]) => Promise<unknown>>>(activities: T, release: () => Promise<void>): T {
  const wrapped: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(activities)) {
    wrapped[name] = async (...args: never[]) => {
      await release();
      return fn(...args);
    };
  }
  return wrapped as T;
}
