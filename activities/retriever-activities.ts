import { join } from 'node:path';
import { Context } from '@temporalio/activity';
import { corpusEmbeddingsKey, evaluationKeys, retrieverKeys, stageScopes } from '../common/artifact-keys.ts';
import { progressTracker, type ProgressBeat } from '../common/activity-progress.ts';
import type { ArtifactRef } from '../common/artifact-ref.ts';
import { ConfigError } from '../common/errors.ts';
import type { PreparedData, SystemEvaluation } from '../common/pipeline-stages.ts';
import { trainedRetrieverSchema, type RetrieverSystem, type TrainedRetriever } from '../common/retriever-types.ts';
import type { DenseEvaluationConfig, RetrieverConfig } from '../common/stage-configs.ts';
import type { ArtifactStore } from '../lib/artifact-store/index.ts';
import { withLocalCopies } from '../lib/artifact-store/local-copies.ts';
import { loadQrels, loadQueries, writeRun } from '../lib/beir/index.ts';
import { perQueryJson, TEST_RUN_DEPTH } from '../lib/metrics/index.ts';
import { loadEncoder, trainedWeights, type EncoderSource, type LoadedEncoder } from '../lib/models/encoder-source.ts';
import { deserializeEmbeddings, serializeEmbeddings } from '../lib/retrieval/embedding-matrix-file.ts';
import { denseSettings, evaluateDenseStage } from '../lib/sptar/dense-evaluation.ts';
import { loadCorpusTexts, parseWeakPairs, preparedNames, readRetrieverFiles, retrieverTrainingData, type WeakPairGroup } from '../lib/sptar/retriever-data.ts';
import { trainRetrieverStage, type CheckpointStore, type TrainedEncoder } from '../lib/sptar/retriever-stage.ts';
import { serializeSafetensors } from '../lib/weights/safetensors.ts';
import { markReused } from './activity-costs.ts';
import { storedResult } from './stored-results.ts';

export interface TrainRetrieverInput {
  readonly config: RetrieverConfig;
  readonly scope: string;
  readonly prepared: PreparedData;
  /**
   * Kept weak pairs, JSONL rows of `weakPairRowSchema`, newest first; empty for the W/O baseline. A document's pairs
   * in a later artifact are ignored when an earlier one has pairs for it.
   */
  readonly weakPairs: readonly ArtifactRef[];
  readonly system: RetrieverSystem;
}

export interface EvaluateDenseInput {
  readonly config: DenseEvaluationConfig;
  readonly scope: string;
  readonly prepared: PreparedData;
  readonly system: Exclude<SystemEvaluation['system'], 'bm25'>;
  /** model.safetensors from trainRetriever; absent = the configured encoder as it is (zero-shot). */
  readonly encoder?: ArtifactRef;
}

/**
 * Heartbeats the progress records of one attempt for one system (rate and ETA measured in this attempt) and honours
 * cancellation (which reaches an activity only through heartbeats).
 */
function progressHeartbeat(subject: string): ProgressBeat {
  const ctx = Context.current();
  const track = progressTracker();
  return ({ stage, ...update }) => {
    ctx.heartbeat(track({ stage, subject, ...update }));
    ctx.cancellationSignal.throwIfAborted();
  };
}

/** Epoch checkpoints of one training run in the store: only the latest of a phase is kept (a MiniLM one is ~350 MB). */
function storedCheckpoints(store: ArtifactStore, keys: ReturnType<typeof retrieverKeys>): CheckpointStore {
  return {
    async latest(phase) {
      const key = (await store.list(keys.checkpointPrefix(phase))).at(-1);
      return key === undefined ? undefined : { bytes: await store.get(key), source: key };
    },
    async save(phase, epoch, bytes) {
      const key = keys.checkpoint(phase, epoch);
      await store.put(key, bytes);
      for (const old of await store.list(keys.checkpointPrefix(phase))) if (old !== key) await store.delete(old);
      return key;
    },
    async clear(phase) {
      for (const old of await store.list(keys.checkpointPrefix(phase))) await store.delete(old);
    },
  };
}

/** Dense retrieval stages: training the retriever (resumable per epoch) and evaluating dense systems. */
export function createRetrieverActivities(deps: { store: ArtifactStore; graphCacheDir?: string }) {
  const { store, graphCacheDir } = deps;
  // The last loaded starting encoder: a model worker evaluates and trains several systems from the same one.
  let loaded: { key: string; encoder: Promise<LoadedEncoder> } | undefined;
  const baseEncoder = (source: EncoderSource): Promise<LoadedEncoder> => {
    const key = JSON.stringify(source);
    if (loaded?.key !== key) {
      const encoder = loadEncoder(source);
      loaded = { key, encoder };
      void encoder.catch(() => {
        if (loaded?.key === key) loaded = undefined;
      });
    }
    return loaded.encoder;
  };

  return {
    async trainRetriever(input: TrainRetrieverInput): Promise<TrainedRetriever> {
      const { config, scope, prepared, weakPairs, system } = input;
      if (system === 'wo' && weakPairs.length > 0) throw new ConfigError(`system 'wo' trains on labeled pairs only, but ${weakPairs.length} weak pair artifacts were given`);
      const base = await baseEncoder(config.encoder);
      const keys = retrieverKeys(stageScopes.trainRetriever(scope, config, base.digest, system, prepared, weakPairs));
      const stored = await storedResult(store, keys.result, config.reuseArtifacts, trainedRetrieverSchema, 'a training result');
      if (stored) return stored;

      const files = await withLocalCopies(store, { corpus: prepared.corpus, queries: prepared.queries, sTrain: prepared.sTrain, sEval: prepared.sEval }, (paths) =>
        readRetrieverFiles({ corpus: paths['corpus']!, queries: paths['queries']!, sTrain: paths['sTrain']!, sEval: paths['sEval']! }),
      );
      const weak: WeakPairGroup[] = [];
      for (const ref of weakPairs) weak.push(parseWeakPairs(await store.get(ref), ref.key));
      const data = retrieverTrainingData(config, { ...files, weak, names: preparedNames(prepared) });

      return trainRetrieverStage(config, data, base, {
        heartbeat: progressHeartbeat(system),
        graphCacheDir,
        checkpoints: storedCheckpoints(store, keys),
        async publish(trained: TrainedEncoder): Promise<TrainedRetriever> {
          const out: TrainedRetriever = {
            system,
            encoder: await store.put(keys.encoderWeights, serializeSafetensors(trained.weights, { format: 'pt' })),
            encoderConfig: await store.put(keys.encoderConfig, base.configJson),
            curve: trained.curve,
            bestEpoch: trained.bestEpoch,
            bestDevScore: trained.bestDevScore,
            weakEpochs: trained.weakEpochs,
            counts: trained.counts,
          };
          await store.put(keys.result, JSON.stringify(out));
          return out;
        },
      });
    },

    async evaluateDense(input: EvaluateDenseInput): Promise<SystemEvaluation> {
      const { config, scope, prepared, system, encoder: trained } = input;
      if ((system === 'zero-shot') !== (trained === undefined)) {
        throw new ConfigError(`evaluateDense: system '${system}' ${trained ? 'cannot take a trained encoder' : 'needs the trained encoder from trainRetriever'}`);
      }
      const base = await baseEncoder(config.encoder);
      const weights = trained ? trainedWeights(await store.get(trained), trained.key, base.weights) : base.weights;
      const settings = denseSettings(config, base.config, trained ? trained.sha256 : base.digest);

      // Corpus embeddings are stored once per (corpus, encoder weights, settings) and reused by every evaluation; the
      // corpus part of an evaluation is the costly one, so one that reads stored embeddings counts as reused.
      const embeddingsKey = corpusEmbeddingsKey(stageScopes.corpusEmbeddings(scope, settings, prepared.corpus));
      const storedEmbeddings = config.reuseArtifacts ? await store.stat(embeddingsKey) : undefined;
      const embeddings = storedEmbeddings && deserializeEmbeddings(await store.get(storedEmbeddings), embeddingsKey);
      if (embeddings) markReused();

      const keys = evaluationKeys(stageScopes.evaluate(scope, { system, depth: TEST_RUN_DEPTH, ...settings }, [prepared.corpus, prepared.queries, prepared.testQrels]), system);
      const local = { queries: prepared.queries, qrels: prepared.testQrels, ...(embeddings ? {} : { corpus: prepared.corpus }) };
      return withLocalCopies(store, local, async (paths, dir) => {
        const result = await evaluateDenseStage(
          config,
          { config: base.config, tokenizer: base.tokenizer, weights },
          { corpus: embeddings ?? (await loadCorpusTexts(paths['corpus']!)), queryTexts: (await loadQueries(paths['queries']!)).value, qrels: (await loadQrels(paths['qrels']!)).value },
          {
            heartbeat: progressHeartbeat(system),
            // A trained encoder's graph is used once per evaluation: scratch space, so the graph cache does not grow.
            place: { cacheDir: trained ? join(dir, 'graphs') : graphCacheDir },
            async onCorpusEncoded(m) {
              await store.put(embeddingsKey, serializeEmbeddings(m));
            },
          },
        );
        await writeRun(join(dir, `${system}.run`), result.lists, system);
        return {
          system,
          metrics: result.metrics,
          run: await store.putFile(keys.run, join(dir, `${system}.run`)),
          perQuery: await store.put(keys.perQuery, perQueryJson(result.evaluation)),
        };
      });
    },
  };
}

export type RetrieverActivities = ReturnType<typeof createRetrieverActivities>;
