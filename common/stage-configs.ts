import type { PipelineConfig } from './pipeline-config.ts';

// The slice of the pipeline config each stage reads, derived once by the workflow (`stageConfigs`) and passed to
// the stage's activity, which hashes exactly what it reads into its artifact key. Each slice keeps the config's own
// nesting, so a whole parsed config is also a valid slice (tests and benchmarks pass one). The generation stage's
// slice is its `GenerationSettings` (common/generation-types.ts, `generationSettings`), which its key hashes whole.

export type PrepareConfig = Pick<PipelineConfig, 'dataset' | 'splits' | 'seed' | 'mode' | 'reuseArtifacts'> & {
  readonly generation: Pick<PipelineConfig['generation'], 'shardSize'>;
};
export type Bm25Config = Pick<PipelineConfig, 'reuseArtifacts'> & { readonly weakFilter: Pick<PipelineConfig['weakFilter'], 'backend' | 'k1' | 'b'> };
export type PromptTuningConfig = Pick<PipelineConfig, 'llm' | 'promptTuning' | 'seed' | 'reuseArtifacts'> & {
  readonly exampleFilter: Pick<PipelineConfig['exampleFilter'], 'groups'>;
};
export type ExampleGroupConfig = Pick<PipelineConfig, 'llm' | 'promptTuning' | 'reuseArtifacts'>;
export type RetrieverConfig = Pick<PipelineConfig, 'retriever' | 'seed' | 'encoder' | 'reuseArtifacts'> & {
  /** The filters that refine the BM25-kept weak pairs before training (none set: the kept pairs as they are). */
  readonly weakFilter?: Pick<PipelineConfig['weakFilter'], 'maxOverlap' | 'maxSpanShare' | 'denseTopK'>;
};
export type DenseEvaluationConfig = Pick<PipelineConfig, 'encoder' | 'reuseArtifacts'> & {
  /** inferencePrecision optional: a slice recorded before it existed (a replayed workflow's input) still reads. */
  readonly retriever: Pick<PipelineConfig['retriever'], 'maxSequenceLength'> & Partial<Pick<PipelineConfig['retriever'], 'inferencePrecision'>>;
};

export function stageConfigs(c: PipelineConfig) {
  return {
    prepare: { dataset: c.dataset, splits: c.splits, seed: c.seed, mode: c.mode, reuseArtifacts: c.reuseArtifacts, generation: { shardSize: c.generation.shardSize } } satisfies PrepareConfig,
    bm25: { reuseArtifacts: c.reuseArtifacts, weakFilter: { backend: c.weakFilter.backend, k1: c.weakFilter.k1, b: c.weakFilter.b } } satisfies Bm25Config,
    promptTuning: { llm: c.llm, promptTuning: c.promptTuning, seed: c.seed, reuseArtifacts: c.reuseArtifacts, exampleFilter: { groups: c.exampleFilter.groups } } satisfies PromptTuningConfig,
    exampleGroup: { llm: c.llm, promptTuning: c.promptTuning, reuseArtifacts: c.reuseArtifacts } satisfies ExampleGroupConfig,
    retriever: {
      retriever: c.retriever,
      seed: c.seed,
      encoder: c.encoder,
      reuseArtifacts: c.reuseArtifacts,
      weakFilter: { maxOverlap: c.weakFilter.maxOverlap, maxSpanShare: c.weakFilter.maxSpanShare, denseTopK: c.weakFilter.denseTopK },
    } satisfies RetrieverConfig,
    denseEvaluation: {
      encoder: c.encoder,
      reuseArtifacts: c.reuseArtifacts,
      retriever: { maxSequenceLength: c.retriever.maxSequenceLength, inferencePrecision: c.retriever.inferencePrecision },
    } satisfies DenseEvaluationConfig,
  };
}

type InferencePrecision = PipelineConfig['retriever']['inferencePrecision'];

/**
 * The encoder's arithmetic when it only encodes (evaluation, the dense weak filter, dev search): the configured
 * `retriever.inferencePrecision`, 'fp32' for a config slice recorded before the setting existed.
 */
export const encoderPrecision = (config: { readonly retriever: { readonly inferencePrecision?: InferencePrecision } }): InferencePrecision =>
  config.retriever.inferencePrecision ?? 'fp32';

/**
 * The precision as it joins the artifact keys of what an encoder computes (embeddings, evaluations, dev scores,
 * trainings, whose epochs the dev search selects): nothing for 'fp32', so those keys stay what they were before
 * int8 existed.
 */
export const precisionKey = (config: { readonly retriever: { readonly inferencePrecision?: InferencePrecision } }): { precision?: 'int8' } =>
  encoderPrecision(config) === 'int8' ? { precision: 'int8' } : {};
