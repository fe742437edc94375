import { join } from 'node:path';
import { z } from 'zod';
import { corpusEmbeddingsKey, devStartKey, evaluationKeys, refinedWeakKeys, retrieverKeys, stageScopes } from '../common/artifact-keys.ts';
import type { ProgressBeat } from '../common/activity-progress.ts';
import type { ArtifactRef } from '../common/artifact-ref.ts';
import { ConfigError } from '../common/errors.ts';
import type { PreparedData, SystemEvaluation } from '../common/pipeline-stages.ts';
import { trainedRetrieverSchema, weakRefinementStatsSchema, type RetrieverSystem, type TrainedRetriever, type WeakRefinementStats } from '../common/retriever-types.ts';
import { encoderPrecision, precisionKey, type DenseEvaluationConfig, type RetrieverConfig } from '../common/stage-configs.ts';
import type { ArtifactStore } from '../lib/artifact-store/index.ts';
import { withLocalCopies } from '../lib/artifact-store/local-copies.ts';
import { loadQrels, loadQueries, loadRun, writeRun } from '../lib/beir/index.ts';
import { toJsonl } from '../lib/beir/jsonl-rows.ts';
import { deserializeBm25Index } from '../lib/bm25/index.ts';
import { perQueryJson, TEST_RUN_DEPTH } from '../lib/metrics/index.ts';
import { loadEncoder, trainedWeights, type EncoderSource, type LoadedEncoder } from '../lib/models/encoder-source.ts';
import { encodeCorpus } from '../lib/retrieval/dense-retrieval.ts';
import { deserializeEmbeddings, serializeEmbeddings } from '../lib/retrieval/embedding-matrix-file.ts';
import { DenseEncoder } from '../lib/sptar/dense-encoder.ts';
import { negativesJsonl } from '../lib/sptar/hard-negatives.ts';
import { denseSettings, evaluateDenseStage, evaluateHybridStage } from '../lib/sptar/dense-evaluation.ts';
import { loadCorpusTexts, parseWeakPairs, preparedNames, readRetrieverFiles, retrieverTrainingData, type WeakPairGroup } from '../lib/sptar/retriever-data.ts';
import { trainRetrieverStage, type CheckpointStore, type TrainedEncoder } from '../lib/sptar/retriever-stage.ts';
import { refineWeakPairs, refinesWeakPairs, type RefinementInputs, type WeakFilterSettings } from '../lib/sptar/weak-refinement.ts';
import { serializeSafetensors } from '../lib/weights/safetensors.ts';
import { markReused } from './activity-costs.ts';
import { progressHeartbeat } from './progress-heartbeat.ts';
import { storedPart, storedResult } from './stored-results.ts';

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
  /** The r-th training of the system (retriever.seeds), with seed + r; absent = 0. */
  readonly replicate?: number;
  /** The BM25 index, when training reads it: hard negatives, the dev pool's distractors, the fusion weight. */
  readonly index?: ArtifactRef;
}

export interface EvaluateHybridInput {
  readonly scope: string;
  readonly prepared: PreparedData;
  readonly bm25: SystemEvaluation;
  readonly dense: SystemEvaluation;
  /** Weight of the dense scores, chosen on the dev queries by trainRetriever. */
  readonly denseWeight: number;
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
 * Checkpoints of one training run in the store, at epoch ends and inside epochs: only the latest of a phase is kept (a
 * MiniLM one is ~350 MB). Keys sort in training order, so the last listed is the latest, even when a failure between
 * storing one and dropping the older ones left two.
 */
function storedCheckpoints(store: ArtifactStore, keys: ReturnType<typeof retrieverKeys>): CheckpointStore {
  return {
    async latest(phase) {
      const key = (await store.list(keys.checkpointPrefix(phase))).at(-1);
      return key === undefined ? undefined : { bytes: await store.get(key), source: key };
    },
    async save(phase, at, bytes) {
      const key = keys.checkpoint(phase, at.epoch, at.step);
      await store.put(key, bytes);
      for (const old of await store.list(keys.checkpointPrefix(phase))) if (old !== key) await store.delete(old);
      return key;
    },
    async clear(phase) {
      for (const old of await store.list(keys.checkpointPrefix(phase))) await store.delete(old);
    },
  };
}

/**
 * The system's BM25-kept weak pairs through the copy and dense round-trip filters, stored once per system and
 * reused by every replicate; the round trip searches the starting encoder's corpus embeddings, which the zero-shot
 * evaluation stores and reads under the same key.
 */
async function refinedWeakStage(
  store: ArtifactStore,
  config: RetrieverConfig,
  settings: WeakFilterSettings,
  scope: string,
  prepared: PreparedData,
  weakPairs: readonly ArtifactRef[],
  weak: readonly WeakPairGroup[],
  files: Awaited<ReturnType<typeof readRetrieverFiles>>,
  base: LoadedEncoder,
  heartbeat: ProgressBeat,
  graphCacheDir: string | undefined,
): Promise<{ groups: WeakPairGroup[]; stats: WeakRefinementStats }> {
  const dense = denseSettings(config, base.config, base.digest);
  const keys = refinedWeakKeys(stageScopes.refineWeak(scope, { settings, ...dense }, prepared.corpus, weakPairs));
  const stored = await storedPart(store, keys.stats, config.reuseArtifacts, weakRefinementStatsSchema, 'weak filter statistics');
  const { corpus } = files;
  if (stored) {
    const kept = parseWeakPairs(await store.get(keys.pairs), keys.pairs);
    // Rows keep their group: a stored row is matched back to its group by (query, document).
    const keep = new Set(kept.rows.map((r) => `${r.query}\u0000${r.docId}`));
    return { groups: weak.map((g) => ({ source: g.source, rows: g.rows.filter((r) => keep.has(`${r.query}\u0000${r.docId}`)) })), stats: stored };
  }
  const documentText = (docId: string) => corpus.texts[corpus.position.get(docId)!]!;
  const labeled = [...files.labeled].flatMap(([qid, docs]) => [...docs.keys()].filter((d) => corpus.position.has(d)).map((d) => ({ query: files.queryTexts.get(qid) ?? '', document: documentText(d) })));
  let encoder: DenseEncoder | undefined;
  try {
    let denseInputs: RefinementInputs['dense'];
    if (settings.denseTopK !== null) {
      encoder = await DenseEncoder.open(base.weights, base.config, base.tokenizer, dense.maxLength, { cacheDir: graphCacheDir }, { precision: encoderPrecision(config) });
      const embeddingsKey = corpusEmbeddingsKey(stageScopes.corpusEmbeddings(scope, dense, prepared.corpus));
      const storedEmbeddings = config.reuseArtifacts ? await store.stat(embeddingsKey) : undefined;
      let matrix = storedEmbeddings && deserializeEmbeddings(await store.get(storedEmbeddings), embeddingsKey);
      if (!matrix) {
        matrix = await encodeCorpus(encoder, corpus, (done, total) => heartbeat({ stage: 'train-retrievers', task: 'weak filter: encoding the corpus', unit: 'documents', done, total }));
        await store.put(embeddingsKey, serializeEmbeddings(matrix));
      }
      denseInputs = { encoder, corpus: matrix };
    }
    const refined = await refineWeakPairs(settings, {
      groups: weak,
      documentText,
      labeled,
      ...(denseInputs ? { dense: denseInputs } : {}),
      onProgress: (done, total) => heartbeat({ stage: 'train-retrievers', task: 'weak filter: dense round trip', unit: 'queries', done, total }),
    });
    await store.put(keys.pairs, toJsonl(refined.groups.flatMap((g) => g.rows.map((r) => ({ queryId: `weak-${r.docId}`, docId: r.docId, query: r.query, rank: r.rank })))));
    await store.put(keys.stats, JSON.stringify(refined.stats));
    return refined;
  } finally {
    await encoder?.release();
  }
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
      const replicate = input.replicate ?? 0;
      if (system === 'wo' && weakPairs.length > 0) throw new ConfigError(`system 'wo' trains on labeled pairs only, but ${weakPairs.length} weak pair artifacts were given`);
      const r = config.retriever;
      const needsIndex = r.hardNegatives > 0 || r.hybrid || (r.devCandidates !== null && r.devCorpusSize !== null);
      if (needsIndex && input.index === undefined) throw new ConfigError('retriever.hardNegatives, retriever.hybrid and retriever.devCandidates need the BM25 index; pass index to trainRetriever');
      const base = await baseEncoder(config.encoder);
      const keys = retrieverKeys(stageScopes.trainRetriever(scope, config, base.digest, system, prepared, weakPairs, { replicate, ...(needsIndex ? { index: input.index } : {}) }));
      const stored = await storedResult(store, keys.result, config.reuseArtifacts, trainedRetrieverSchema, 'a training result');
      if (stored) return stored;
      // Heartbeats on a clock as well as on progress: a store transfer or a dev search between beats stays covered.
      const heartbeat = progressHeartbeat(replicate > 0 ? `${system} (seed ${config.seed + replicate})` : system);
      try {
        const files = await withLocalCopies(store, { corpus: prepared.corpus, queries: prepared.queries, sTrain: prepared.sTrain, sEval: prepared.sEval }, (paths) =>
          readRetrieverFiles({ corpus: paths['corpus']!, queries: paths['queries']!, sTrain: paths['sTrain']!, sEval: paths['sEval']! }),
        );
        let weak: WeakPairGroup[] = [];
        for (const ref of weakPairs) weak.push(parseWeakPairs(await store.get(ref), ref.key));
        let weakFilters: WeakRefinementStats | undefined;
        if (weak.length > 0 && refinesWeakPairs(config.weakFilter)) {
          const refined = await refinedWeakStage(store, config, config.weakFilter, scope, prepared, weakPairs, weak, files, base, heartbeat, graphCacheDir);
          weak = refined.groups;
          weakFilters = refined.stats;
        }
        const index = needsIndex ? deserializeBm25Index(await store.get(input.index!)) : undefined;
        const seed = config.seed + replicate;
        const data = retrieverTrainingData(config, { ...files, weak, names: preparedNames(prepared), ...(index ? { search: (q: string, k: number) => index.search(q, k) } : {}), seed });

        // Every system and replicate starts from the same encoder on the same dev split: its dev search runs once.
        const { devQueries, devFraction, devCorpusSize, devCandidates, maxSequenceLength } = r;
        const startKey = devStartKey(
          stageScopes.devStart(scope, { encoder: base.digest, devQueries, devFraction, devCorpusSize, devCandidates, maxSequenceLength, seed: config.seed, ...precisionKey(config) }, [
            prepared.corpus,
            prepared.queries,
            prepared.sTrain,
            prepared.sEval,
            ...(needsIndex ? [input.index!] : []),
          ]),
        );
        return await trainRetrieverStage(config, data, base, {
          heartbeat,
          graphCacheDir,
          checkpoints: storedCheckpoints(store, keys),
          seed,
          startingDevScore: {
            load: async () => (await storedPart(store, startKey, config.reuseArtifacts, z.object({ devScore: z.number() }), 'a starting dev score'))?.devScore,
            save: async (devScore) => {
              await store.put(startKey, JSON.stringify({ devScore }));
            },
          },
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
              replicate,
              dev: { queryIds: [...trained.dev.queryIds], ndcg10: [...trained.dev.ndcg10], ...(trained.dev.fusion ? { fusion: { ...trained.dev.fusion, ndcg10: [...trained.dev.fusion.ndcg10], grid: [...trained.dev.fusion.grid] } } : {}) },
              ...(data.negatives ? { negatives: await store.put(keys.negatives, negativesJsonl(data.negatives.mined)) } : {}),
              ...(weakFilters ? { weakFilters } : {}),
            };
            await store.put(keys.result, JSON.stringify(out));
            return out;
          },
        });
      } finally {
        heartbeat.stop();
      }
    },

    /** BM25's test run fused with a dense system's at the dev-chosen weight: a system of its own. */
    async evaluateHybrid(input: EvaluateHybridInput): Promise<SystemEvaluation> {
      const { scope, prepared, bm25, dense, denseWeight } = input;
      const system = dense.system;
      if (system === 'bm25') throw new ConfigError('evaluateHybrid: the dense side must be a dense system, got bm25');
      const keys = evaluationKeys(stageScopes.evaluate(scope, { system, hybrid: 'min-max', denseWeight, depth: TEST_RUN_DEPTH }, [bm25.run, dense.run, prepared.testQrels]), `${system}-hybrid`);
      return withLocalCopies(store, { bm25: bm25.run, dense: dense.run, qrels: prepared.testQrels }, async (paths, dir) => {
        const result = evaluateHybridStage((await loadQrels(paths['qrels']!)).value, (await loadRun(paths['bm25']!)).value, (await loadRun(paths['dense']!)).value, denseWeight);
        const file = join(dir, `${system}-hybrid.run`);
        await writeRun(file, result.lists, `${system}-hybrid`);
        return {
          system,
          ...(dense.replicate ? { replicate: dense.replicate } : {}),
          hybrid: { denseWeight },
          metrics: result.metrics,
          run: await store.putFile(keys.run, file),
          perQuery: await store.put(keys.perQuery, perQueryJson(result.evaluation)),
        };
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
      const heartbeat = progressHeartbeat(system);
      try {
        return await withLocalCopies(store, local, async (paths, dir) => {
          const result = await evaluateDenseStage(
            config,
            { config: base.config, tokenizer: base.tokenizer, weights },
            { corpus: embeddings ?? (await loadCorpusTexts(paths['corpus']!)), queryTexts: (await loadQueries(paths['queries']!)).value, qrels: (await loadQrels(paths['qrels']!)).value },
            {
              heartbeat,
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
      } finally {
        heartbeat.stop();
      }
    },
  };
}

export type RetrieverActivities = ReturnType<typeof createRetrieverActivities>;
