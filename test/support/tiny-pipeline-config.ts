// The pipeline config of the tiny-model integration tests: seeded tiny models on a small SciFact slice.
export const TINY_PIPELINE_CONFIG = {
  dataset: { path: '../shared/data/scifact' },
  llm: { kind: 'tiny', architecture: 'llama', seed: 3 },
  encoder: { kind: 'tiny', architecture: 'bert', seed: 5 },
  splits: { trainPairs: 6, evalQueries: 4, unlabeledLimit: 30 },
  promptTuning: { promptLength: 4, maxEpochs: 2, maxDocumentWords: 40, maxQueryWords: 16 },
  exampleFilter: { groups: 3 },
  generation: { shardSize: 8, maxConcurrentShards: 2, batchSize: 4, maxNewTokens: 8 },
  retriever: { epochs: 2, batchSize: 8, maxSequenceLength: 48 },
};
