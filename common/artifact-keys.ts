import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import type { ArtifactRef } from './artifact-ref.ts';
import { fnv1a } from './fnv1a.ts';
import type { GenerationSettings, ShardSet } from './generation-types.ts';
import type { PreparedData } from './pipeline-stages.ts';
import { precisionKey, type Bm25Config, type ExampleGroupConfig, type PrepareConfig, type PromptTuningConfig, type RetrieverConfig } from './stage-configs.ts';

// Every artifact key the pipeline writes or reads is named here, and nowhere else. Stage outputs live under
// `{scope}/{stage}/{inputHash}/{name}`: the input hash covers the config slice the stage uses, the hashes of its
// input artifacts and the stage's code version, so the same inputs give the same key and a retried or repeated stage
// finds its output and skips the work. Keys are built from their parts and never parsed back out of a string.
// Sandbox-safe (a pure-JS sha256), so the workflow derives the generation stage's keys with the same scheme.

/** Bump a stage's version when its output for the same inputs changes; old artifacts are then not reused. */
export const STAGE_CODE_VERSIONS = {
  prepare: 1,
  'bm25-index': 1,
  'tune-prompt': 1,
  'example-group': 1,
  generate: 1,
  'weak-filter': 1,
  'train-retriever': 2,
  'refine-weak': 1,
  'corpus-embeddings': 1,
  evaluate: 1,
  report: 1,
} as const;
export type VersionedStage = keyof typeof STAGE_CODE_VERSIONS;

export interface StageScope {
  /** `runName` when artifacts may be reused across runs, the run's own scope when they must not. */
  readonly scope: string;
  readonly stage: VersionedStage;
  readonly inputHash: string;
}

/** Canonical JSON: object keys sorted, so logically equal inputs hash equally. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The one hash scheme of stage scopes: sha256 over the stage and its version, the config slice and the inputs. */
export function stageScope(scope: string, stage: VersionedStage, configSlice: unknown, inputs: readonly { readonly sha256: string }[]): StageScope {
  const text = [`${stage}@${STAGE_CODE_VERSIONS[stage]}`, canonicalJson(configSlice), ...inputs.map((ref) => ref.sha256)].join('\n');
  return { scope, stage, inputHash: bytesToHex(sha256(utf8ToBytes(text))).slice(0, 16) };
}

/**
 * The scope of each stage run: what its input hash covers. The activity that runs a stage, the workflow (for the
 * generation stage) and the benchmarks that read a stage's outputs all derive it here.
 */
export const stageScopes = {
  prepare: (scope: string, c: PrepareConfig, datasetFingerprint: string, incremental: string | null): StageScope =>
    stageScope(scope, 'prepare', { dataset: c.dataset, splits: c.splits, seed: c.seed, shardSize: c.generation.shardSize, datasetFingerprint, incremental }, []),
  bm25Index: (scope: string, c: Bm25Config, prepared: PreparedData): StageScope =>
    stageScope(scope, 'bm25-index', { backend: c.weakFilter.backend, k1: c.weakFilter.k1, b: c.weakFilter.b }, [prepared.corpus]),
  tunePrompt: (scope: string, c: PromptTuningConfig, prepared: PreparedData): StageScope =>
    stageScope(scope, 'tune-prompt', { llm: c.llm, promptTuning: c.promptTuning, seed: c.seed, groups: c.exampleFilter.groups }, [prepared.sTrain, prepared.sEval, prepared.corpus]),
  exampleGroup: (scope: string, c: ExampleGroupConfig, prepared: PreparedData, prompt: ArtifactRef, group: readonly number[]): StageScope =>
    stageScope(scope, 'example-group', { llm: c.llm, promptTuning: c.promptTuning, group }, [prompt, prepared.sTrain, prepared.sEval, prepared.corpus, prepared.queries]),
  generate: (scope: string, system: string, settings: GenerationSettings, unlabeled: ShardSet): StageScope => stageScope(scope, 'generate', { system, settings, unlabeled }, []),
  refilter: (scope: string, topK: number, index: ArtifactRef, pairs: readonly ArtifactRef[], replaced: { readonly prefix: string; readonly count: number } | null = null): StageScope =>
    stageScope(scope, 'weak-filter', { topK, earlierRuns: true, ...(replaced ? { replaced: { prefix: replaced.prefix, count: replaced.count } } : {}) }, [index, ...pairs]),
  /**
   * `replicate` r > 0 (a further seed) and the BM25 index (when training reads it: hard negatives, the dev pool or
   * fusion) join the hash; replicate 0 without an index hashes as before they existed.
   */
  trainRetriever: (
    scope: string,
    c: RetrieverConfig,
    encoderDigest: string,
    system: string,
    prepared: PreparedData,
    weakPairs: readonly ArtifactRef[],
    extra: { readonly replicate?: number; readonly index?: ArtifactRef } = {},
  ): StageScope =>
    stageScope(
      scope,
      'train-retriever',
      // The checkpoint cadence does not change what is trained: left out (canonicalJson drops undefined fields). The
      // inference precision selects epochs through the dev search: it joins the hash as precisionKey says.
      { retriever: { ...c.retriever, checkpointEverySteps: undefined, inferencePrecision: precisionKey(c).precision }, seed: c.seed, encoder: encoderDigest, system, ...(extra.replicate ? { replicate: extra.replicate } : {}) },
      [prepared.corpus, prepared.queries, prepared.sTrain, prepared.sEval, ...weakPairs, ...(extra.index ? [extra.index] : [])],
    ),
  /** The starting encoder's dev score: `settings` name the encoder and what draws the dev split. */
  devStart: (scope: string, settings: Record<string, unknown>, inputs: readonly ArtifactRef[]): StageScope => stageScope(scope, 'train-retriever', { devStart: settings }, inputs),
  /** The weak pairs refined by the copy and dense round-trip filters; `settings` name the filters and the encoder. */
  refineWeak: (scope: string, settings: Record<string, unknown>, corpus: ArtifactRef, weakPairs: readonly ArtifactRef[]): StageScope =>
    stageScope(scope, 'refine-weak', settings, [corpus, ...weakPairs]),
  /** `settings` name the encoder (weights digest), its input length and pooling. */
  corpusEmbeddings: (scope: string, settings: Record<string, unknown>, corpus: ArtifactRef): StageScope => stageScope(scope, 'corpus-embeddings', settings, [corpus]),
  evaluate: (scope: string, settings: Record<string, unknown>, inputs: readonly ArtifactRef[]): StageScope => stageScope(scope, 'evaluate', settings, inputs),
  report: (scope: string, runId: string, artifacts: readonly ArtifactRef[]): StageScope => stageScope(scope, 'report', { runId }, artifacts),
};

const stageKey = (s: StageScope, name: string): string => `${s.scope}/${s.stage}/${s.inputHash}/${name}`;
const pad = (n: number, width: number): string => String(n).padStart(width, '0');

/** An id as one key segment (workflow ids hold `/`). */
export const keySegment = (id: string): string => id.replace(/[^A-Za-z0-9._=-]/g, '-');

/** Artifact scope of a run: the run name when finished stages may be reused across runs, else the run's own. */
export const runScope = (runName: string, reuseArtifacts: boolean, workflowId: string): string => (reuseArtifacts ? runName : `${runName}/${keySegment(workflowId)}`);

export const lastSuccessKey = (runName: string): string => `${runName}/last-success.json`;

export const prepareKeys = (sc: StageScope) => ({
  record: stageKey(sc, 'prepared.json'),
  corpus: stageKey(sc, 'corpus.jsonl'),
  queries: stageKey(sc, 'queries.jsonl'),
  sTrain: stageKey(sc, 's-train.tsv'),
  sEval: stageKey(sc, 's-eval.tsv'),
  testQrels: stageKey(sc, 'test-qrels.tsv'),
  docHashes: stageKey(sc, 'doc-hashes.tsv'),
  rejects: stageKey(sc, 'rejects.jsonl'),
  /** Prefix of D_unlabeled's shards; see `shardDocumentsKey`. */
  unlabeledPrefix: stageKey(sc, 'unlabeled'),
});

/** The doc hashes a run records as done: `docHashesKey` without the documents of the given failed shards. */
export const doneDocHashesKey = (docHashesKey: string, failedShards: readonly number[]): string =>
  `${docHashesKey.replace(/\.tsv$/, '')}-without-${fnv1a(JSON.stringify(failedShards))}.tsv`;

/** Shard `index` of D_unlabeled (BEIR corpus rows). */
export const shardDocumentsKey = (set: { readonly prefix: string }, index: number): string => `${set.prefix}/shard-${pad(index, 6)}.jsonl`;

export const bm25IndexKey = (sc: StageScope, backend: string): string => stageKey(sc, `${backend}.bm25`);

export const evaluationKeys = (sc: StageScope, system: string) => ({
  run: stageKey(sc, `${system}.run`),
  perQuery: stageKey(sc, `${system}.per-query.json`),
});

export const promptTuningKeys = (sc: StageScope) => ({
  record: stageKey(sc, 'soft-prompt.json'),
  prompt: stageKey(sc, 'soft-prompt.f32'),
  checkpoint: stageKey(sc, 'checkpoint.json'),
});

export const exampleGroupScoreKey = (sc: StageScope): string => stageKey(sc, 'score.json');

/** Where one augmentor's generation outputs go (every shard's, and the merged kept pairs). */
export const generationPrefix = (sc: StageScope, system: string): string => stageKey(sc, system);

/** Outputs of shard `index` of a generation stage; a stored `result` means the shard is finished. */
export function generationShardKeys(outputPrefix: string, index: number) {
  const base = `${outputPrefix}/shard-${pad(index, 6)}`;
  return {
    result: `${base}.result.json`,
    /** Checkpoint parts, named by the index of their first document so their key order is their order. */
    partPrefix: `${base}.part-`,
    part: (firstDocument: number): string => `${base}.part-${pad(firstDocument, 9)}.jsonl`,
    queries: `${base}.queries.jsonl`,
    failures: `${base}.failures.jsonl`,
    kept: (topK: number): string => `${base}.kept-k${topK}.jsonl`,
  };
}

/** Every shard's kept pairs of one generation stage, merged. */
export const mergedKeptPairsKey = (outputPrefix: string, topK: number): string => `${outputPrefix}/kept-pairs-k${topK}.jsonl`;

/** Earlier runs' kept pairs filtered again with this run's index (incremental runs). */
export const refilteredPairsKey = (sc: StageScope, topK: number): string => stageKey(sc, `kept-k${topK}.jsonl`);

export type TrainingPhaseName = 'mixed' | 'weak' | 'labeled';

export const retrieverKeys = (sc: StageScope) => ({
  result: stageKey(sc, 'result.json'),
  encoderWeights: stageKey(sc, 'encoder/model.safetensors'),
  encoderConfig: stageKey(sc, 'encoder/config.json'),
  /** The mined hard negatives the training used, JSONL {queryKey, negatives}. */
  negatives: stageKey(sc, 'hard-negatives.jsonl'),
  /** Checkpoints of one training phase; the mixed phase keeps the key of runs before phases existed. */
  checkpointPrefix: (phase: TrainingPhaseName): string => stageKey(sc, phase === 'mixed' ? 'checkpoints/' : `checkpoints-${phase}/`),
  /**
   * The checkpoint at the end of `epoch`, or after `step` steps of `epoch`. Keys sort in training order ('-' sorts
   * before '.': epoch-0002-step-00000016 < epoch-0002 < epoch-0003-step-...), so the last listed is the latest.
   */
  checkpoint: (phase: TrainingPhaseName, epoch: number, step?: number): string =>
    `${stageKey(sc, phase === 'mixed' ? 'checkpoints/' : `checkpoints-${phase}/`)}epoch-${pad(epoch, 4)}${step === undefined ? '' : `-step-${pad(step, 8)}`}.ckpt`,
});

export const corpusEmbeddingsKey = (sc: StageScope): string => stageKey(sc, 'corpus.f32');

export const devStartKey = (sc: StageScope): string => stageKey(sc, 'starting-dev-score.json');

export const refinedWeakKeys = (sc: StageScope) => ({
  pairs: stageKey(sc, 'weak-pairs.jsonl'),
  stats: stageKey(sc, 'stats.json'),
});

export const reportKeys = (sc: StageScope) => ({
  manifest: stageKey(sc, 'manifest.json'),
  markdown: stageKey(sc, 'report.md'),
  html: stageKey(sc, 'report.html'),
});

/** The pipeline that started a workflow: child ids extend their parent's (`<pipelineId>/generate-sptar/shard-3`). */
export const rootWorkflowId = (workflowId: string): string => workflowId.split('/')[0]!;

/** Cost records of every activity attempt of one pipeline run (and its children). */
export const costPrefix = (pipelineWorkflowId: string): string => `costs/${keySegment(rootWorkflowId(pipelineWorkflowId))}/`;

/** One key per attempt; the run id keeps a later run under the same workflow id from overwriting an earlier run's records. */
export function costKey(record: { readonly activityType: string; readonly workflowId: string; readonly activityId: string; readonly attempt: number }, runId?: string): string {
  const run = runId === undefined ? '' : `-run-${keySegment(runId)}`;
  return `${costPrefix(record.workflowId)}${record.activityType}-${keySegment(record.workflowId)}-${keySegment(record.activityId)}-attempt-${record.attempt}${run}.json`;
}
