import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Context } from '@temporalio/activity';
import type { ArtifactRef } from '../common/artifact-ref.ts';
import { ConfigError, CorruptArtifactError, DataFormatError, MissingModelError } from '../common/errors.ts';
import type { PipelineConfig } from '../common/pipeline-config.ts';
import type { PreparedData, SystemEvaluation } from '../common/pipeline-stages.ts';
import { trainedRetrieverSchema, weakPairRowSchema, type RetrieverSystem, type TrainedRetriever } from '../common/retriever-types.ts';
import { loadQrels, loadQueries, readCorpus, writeRun, type Qrels, type RankedList } from '../lib/beir/index.ts';
import { evaluateRun } from '../lib/metrics/index.ts';
import type { BertConfig, WeightMap, WeightTensor } from '../lib/models/model-config.ts';
import { randomBertWeights, TINY_BERT } from '../lib/models/tiny-models.ts';
import { weightsDigest } from '../lib/onnx/graph-cache.ts';
import { topKDense, type EmbeddingMatrix } from '../lib/retrieval/dense-search.ts';
import { createPrng, shuffled } from '../lib/splits/prng.ts';
import { DenseEncoder, EncoderTrainer } from '../lib/sptar/dense-encoder.ts';
import { seededPhaseShuffle, trainingPhases, trainPhases, type TrainingPair, type TrainingPhase } from '../lib/sptar/retriever-training.ts';
import type { TextTokenizer } from '../lib/tokenizers/text-tokenizer.ts';
import { loadTokenizerJson } from '../lib/tokenizers/tokenizer-files.ts';
import { loadBertCheckpoint, normaliseCheckpointNames } from '../lib/weights/hf-checkpoint.ts';
import { parseSafetensors, serializeSafetensors } from '../lib/weights/safetensors.ts';
import type { ArtifactStore } from './artifact-store/index.ts';
import { markReused } from './activity-costs.ts';
import { withLocalCopies, withScratch } from './local-copies.ts';
import { deserializeCheckpoint, deserializeEmbeddings, serializeCheckpoint, serializeEmbeddings, type TrainableLayout } from './retriever-artifacts.ts';
import { stageKey, stageScope, type StageScope } from './stage-artifacts.ts';

const RETRIEVAL_DEPTH = 100; // MAP@100 and Recall@100 need the top 100
/**
 * Texts per encoder run. onnxruntime-node blocks the event loop for a whole run; 16 MiniLM rows of 256 tokens take
 * well under a second here, so heartbeats between runs keep flowing.
 */
const ENCODE_BATCH = 16;
/** Tiny encoders borrow the installed MiniLM WordPiece vocabulary, so they read real text like the real encoder. */
const DEFAULT_TINY_ENCODER_TOKENIZER = 'models/all-minilm-l6-v2/tokenizer.json';
const INSTALL_HINT = "run 'bash infra/install.sh models'";

export interface LoadedEncoder {
  readonly config: BertConfig;
  readonly weights: WeightMap;
  readonly tokenizer: TextTokenizer;
  /** config.json of the encoder, stored beside exported weights so they load as a HuggingFace folder. */
  readonly configJson: string;
  /** sha256 over the weights: the identity of the starting encoder in artifact keys. */
  readonly digest: string;
}

function requireFile(path: string, what: string): void {
  if (!existsSync(path)) throw new MissingModelError(`${what} ${path} is missing; ${INSTALL_HINT} or point the encoder setting at an installed model`);
}

function hfBertConfigJson(cfg: BertConfig): string {
  return `${JSON.stringify(
    {
      architectures: ['BertModel'],
      model_type: 'bert',
      vocab_size: cfg.vocabSize,
      hidden_size: cfg.hiddenSize,
      num_hidden_layers: cfg.numLayers,
      num_attention_heads: cfg.numHeads,
      intermediate_size: cfg.intermediateSize,
      hidden_act: 'gelu',
      layer_norm_eps: cfg.layerNormEps,
      max_position_embeddings: cfg.maxPositions,
      type_vocab_size: cfg.typeVocabSize,
      position_embedding_type: 'absolute',
    },
    null,
    2,
  )}\n`;
}

/**
 * The configured starting encoder: a HuggingFace BERT folder (model.safetensors, config.json, tokenizer.json), or a
 * seeded tiny random BERT over a real WordPiece vocabulary (by default the installed MiniLM's). Relative paths are
 * resolved against the working directory, the repository root for workers and tests.
 */
export async function loadEncoder(source: PipelineConfig['encoder']): Promise<LoadedEncoder> {
  switch (source.kind) {
    case 'file': {
      const dir = resolve(source.path);
      requireFile(join(dir, 'model.safetensors'), 'encoder weights');
      requireFile(join(dir, 'config.json'), 'encoder config');
      requireFile(join(dir, 'tokenizer.json'), 'encoder tokenizer');
      const { config, weights } = await loadBertCheckpoint(dir);
      const tokenizer = await loadTokenizerJson(join(dir, 'tokenizer.json'));
      const configJson = await readFile(join(dir, 'config.json'), 'utf8');
      return { config, weights, tokenizer, configJson, digest: weightsDigest(weights) };
    }
    case 'tiny': {
      if (source.architecture !== 'bert') throw new ConfigError(`encoder.architecture: a dense encoder must be 'bert', got '${source.architecture}'`);
      const tokPath = resolve(source.tokenizer ?? DEFAULT_TINY_ENCODER_TOKENIZER);
      requireFile(tokPath, 'WordPiece tokenizer for the tiny encoder');
      const tokenizer = await loadTokenizerJson(tokPath);
      const config: BertConfig = { ...TINY_BERT, vocabSize: tokenizer.vocabSize, maxPositions: 512 };
      const weights = randomBertWeights(config, source.seed);
      return { config, weights, tokenizer, configJson: hfBertConfigJson(config), digest: weightsDigest(weights) };
    }
  }
}

export interface TrainRetrieverInput {
  readonly config: PipelineConfig;
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
  readonly config: PipelineConfig;
  readonly scope: string;
  readonly prepared: PreparedData;
  readonly system: Exclude<SystemEvaluation['system'], 'bm25'>;
  /** model.safetensors from trainRetriever; absent = the configured encoder as it is (zero-shot). */
  readonly encoder?: ArtifactRef;
}

export interface CorpusTexts {
  readonly ids: string[];
  readonly texts: string[];
  readonly position: Map<string, number>;
}

export async function loadCorpusTexts(path: string): Promise<CorpusTexts> {
  const ids: string[] = [];
  const texts: string[] = [];
  const position = new Map<string, number>();
  for await (const row of readCorpus(path)) {
    position.set(row._id, ids.length);
    ids.push(row._id);
    texts.push(`${row.title ?? ''} ${row.text}`.trim());
  }
  return { ids, texts, position };
}

export type Beat = (details: Record<string, unknown>) => void;

/** Heartbeats and honours cancellation (which reaches an activity only through heartbeats). */
const heartbeat: Beat = (details) => {
  const ctx = Context.current();
  ctx.heartbeat(details);
  ctx.cancellationSignal.throwIfAborted();
};

async function encodeCorpus(encoder: DenseEncoder, corpus: CorpusTexts, beat: Beat): Promise<EmbeddingMatrix> {
  const data = await encoder.encode(corpus.texts, ENCODE_BATCH, (done) => beat({ encoded: done, of: corpus.texts.length }));
  return { ids: corpus.ids, dim: encoder.dim, data };
}

/** Exact top-k for each query; queries without text are left out of the run (trec_eval then scores them 0). */
export async function denseRun(encoder: DenseEncoder, docs: EmbeddingMatrix, queries: readonly { id: string; text: string }[], beat: Beat): Promise<RankedList[]> {
  const vectors = await encoder.encode(
    queries.map((q) => q.text),
    ENCODE_BATCH,
    (done) => beat({ queriesEncoded: done }),
  );
  return queries.map((q, i) => ({ queryId: q.id, hits: topKDense(vectors.subarray(i * docs.dim, (i + 1) * docs.dim), docs, RETRIEVAL_DEPTH) }));
}

export const toRun = (lists: readonly RankedList[]) => new Map(lists.map((l) => [l.queryId, new Map(l.hits.map((h) => [h.id, h.score]))]));

export function queriesWithText(qids: Iterable<string>, texts: ReadonlyMap<string, string>): { id: string; text: string }[] {
  const out: { id: string; text: string }[] = [];
  for (const id of [...qids].sort()) {
    const text = texts.get(id);
    if (text !== undefined) out.push({ id, text });
  }
  return out;
}

async function readWeakPairs(store: ArtifactStore, ref: ArtifactRef, corpus: CorpusTexts): Promise<{ query: string; docId: string }[]> {
  const lines = new TextDecoder().decode(await store.get(ref)).split('\n');
  const rows: { query: string; docId: string }[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch (err) {
      throw new DataFormatError(`${ref.key}:${i + 1}: not JSON (${(err as Error).message}); weak pairs are JSONL rows {"queryId", "docId", "query", "rank"}`);
    }
    const parsed = weakPairRowSchema.safeParse(json);
    if (!parsed.success) throw new DataFormatError(`${ref.key}:${i + 1}: ${parsed.error.issues.map((x) => `${x.path.join('.') || '(row)'}: ${x.message}`).join('; ')}`);
    if (!corpus.position.has(parsed.data.docId)) throw new DataFormatError(`${ref.key}:${i + 1}: document "${parsed.data.docId}" is not in the prepared corpus; the weak pairs belong to another dataset`);
    rows.push(parsed.data);
  });
  return rows;
}

/** S_train + S_eval judgements merged (positive grades only): the labeled data the retriever may learn from. */
export function mergeLabeled(a: Qrels, b: Qrels): Map<string, Map<string, number>> {
  const out = new Map<string, Map<string, number>>();
  for (const qrels of [a, b]) {
    for (const [qid, docs] of qrels) {
      for (const [docId, grade] of docs) {
        if (grade <= 0) continue;
        let inner = out.get(qid);
        if (!inner) out.set(qid, (inner = new Map()));
        inner.set(docId, Math.max(grade, inner.get(docId) ?? 0));
      }
    }
  }
  return out;
}

/**
 * The documents dev queries search each epoch: the whole corpus, or (to bound the cost of an epoch on a large
 * corpus) every document judged for a dev query plus a seeded sample of the others, `size` in all.
 */
export function devCorpusOf(corpus: CorpusTexts, devQrels: ReadonlyMap<string, ReadonlyMap<string, number>>, size: number | null, seed: number): CorpusTexts {
  if (size === null || size >= corpus.ids.length) return corpus;
  const judged = new Set<string>();
  for (const docs of devQrels.values()) for (const docId of docs.keys()) judged.add(docId);
  const others = shuffled(corpus.ids.filter((id) => !judged.has(id)), createPrng(seed, 'retriever-dev-corpus'));
  const keep = new Set([...judged, ...others.slice(0, Math.max(0, size - judged.size))]);
  const ids: string[] = [];
  const texts: string[] = [];
  const position = new Map<string, number>();
  corpus.ids.forEach((id, i) => {
    if (!keep.has(id)) return;
    position.set(id, ids.length);
    ids.push(id);
    texts.push(corpus.texts[i]!);
  });
  return { ids, texts, position };
}

/** Dev queries: a seeded share of the labeled queries, at least one, and never all of them. */
export function devQueryIds(labeledQueryIds: Iterable<string>, fraction: number, seed: number): Set<string> {
  const ids = [...labeledQueryIds].sort();
  if (ids.length < 2) throw new ConfigError(`retriever training needs at least 2 labeled queries (one for training, one for the dev split), got ${ids.length}; raise splits.trainPairs or splits.evalQueries`);
  const count = Math.min(ids.length - 1, Math.max(1, Math.round(fraction * ids.length)));
  return new Set(shuffled(ids, createPrng(seed, 'retriever-dev')).slice(0, count));
}

/** Checkpoints per training phase; the mixed phase keeps the key of runs before phases existed. */
const checkpointPrefix = (sc: StageScope, phase: TrainingPhase['name']) => stageKey(sc, phase === 'mixed' ? 'checkpoints/' : `checkpoints-${phase}/`);
const checkpointKey = (sc: StageScope, phase: TrainingPhase['name'], epoch: number) => `${checkpointPrefix(sc, phase)}epoch-${String(epoch).padStart(4, '0')}.ckpt`;

/** Dense retrieval stages: training the retriever (resumable per epoch) and evaluating dense systems. */
export function createRetrieverActivities(deps: { store: ArtifactStore; graphCacheDir?: string }) {
  const { store, graphCacheDir } = deps;
  // The last loaded starting encoder: a model worker evaluates and trains several systems from the same one.
  let loaded: { key: string; encoder: Promise<LoadedEncoder> } | undefined;
  const baseEncoder = (source: PipelineConfig['encoder']): Promise<LoadedEncoder> => {
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
  const maxLengthOf = (config: PipelineConfig, base: LoadedEncoder) => Math.min(config.retriever.maxSequenceLength, base.config.maxPositions);

  return {
    async trainRetriever(input: TrainRetrieverInput): Promise<TrainedRetriever> {
      const { config, scope, prepared, weakPairs, system } = input;
      if (system === 'wo' && weakPairs.length > 0) throw new ConfigError(`system 'wo' trains on labeled pairs only, but ${weakPairs.length} weak pair artifacts were given`);
      const base = await baseEncoder(config.encoder);
      const r = config.retriever;
      const maxLength = maxLengthOf(config, base);
      const sc = stageScope(scope, 'train-retriever', { retriever: r, seed: config.seed, encoder: base.digest, system }, [prepared.corpus, prepared.queries, prepared.sTrain, prepared.sEval, ...weakPairs]);
      const resultKey = stageKey(sc, 'result.json');
      if (config.reuseArtifacts) {
        const existing = await store.stat(resultKey);
        if (existing) {
          const parsed = trainedRetrieverSchema.safeParse(JSON.parse(new TextDecoder().decode(await store.get(existing))));
          if (!parsed.success) throw new CorruptArtifactError(`${resultKey} is not a training result; delete it to train again`);
          markReused();
          return parsed.data;
        }
      }

      return withLocalCopies(store, { corpus: prepared.corpus, queries: prepared.queries, sTrain: prepared.sTrain, sEval: prepared.sEval }, async (paths) => {
        const corpus = await loadCorpusTexts(paths['corpus']!);
        const queryTexts = (await loadQueries(paths['queries']!)).value;
        const labeled = mergeLabeled((await loadQrels(paths['sTrain']!)).value, (await loadQrels(paths['sEval']!)).value);
        const dev = devQueryIds(labeled.keys(), r.devFraction, config.seed);

        // Training pairs: query keys are labeled ids or weak query texts, so the same query never meets itself as
        // an in-batch negative; doc keys are corpus ids.
        const texts = new Map<string, string>();
        const pairs: TrainingPair[] = [];
        const seen = new Set<string>();
        const add = (queryKey: string, text: string, docId: string) => {
          const k = `${queryKey}\u0000${docId}`;
          if (seen.has(k)) return;
          seen.add(k);
          texts.set(queryKey, text);
          pairs.push({ queryId: queryKey, docId });
        };
        for (const qid of [...labeled.keys()].sort()) {
          if (dev.has(qid)) continue;
          const text = queryTexts.get(qid);
          if (text === undefined) throw new DataFormatError(`${prepared.queries.key}: labeled query "${qid}" has no text; the prepared queries and qrels disagree`);
          for (const docId of [...labeled.get(qid)!.keys()].sort()) {
            if (!corpus.position.has(docId)) throw new DataFormatError(`${prepared.sTrain.key}/${prepared.sEval.key}: labeled document "${docId}" is not in the prepared corpus`);
            add(`labeled:${qid}`, text, docId);
          }
        }
        const labeledPairs = pairs.length;
        // Artifacts come newest first (incremental runs merge earlier runs' pairs): a document re-augmented by a
        // newer run keeps only its newer queries.
        const augmented = new Set<string>();
        for (const ref of weakPairs) {
          const rows = await readWeakPairs(store, ref, corpus);
          const fresh = rows.filter((row) => !augmented.has(row.docId));
          for (const row of fresh) add(`weak:${row.query}`, row.query, row.docId);
          for (const row of rows) augmented.add(row.docId);
        }
        const devQueries = queriesWithText(dev, queryTexts);
        const devQrels = new Map([...dev].map((qid) => [qid, labeled.get(qid)!]));
        const devCorpus = devCorpusOf(corpus, devQrels, r.devCorpusSize, config.seed);
        const docText = (docId: string) => corpus.texts[corpus.position.get(docId)!]!;

        const trainer = await EncoderTrainer.open(base.weights, base.config, base.tokenizer, { scale: r.similarityScale, maxLength }, { cacheDir: graphCacheDir });
        const layout: TrainableLayout = { names: trainer.weightNames, shapes: new Map(trainer.weightNames.map((n) => [n, base.weights.get(n)!.dims])) };
        const phases = trainingPhases(pairs.slice(0, labeledPairs), pairs.slice(labeledPairs), r.weakSchedule, r.epochs, r.weakEpochs);
        // The epoch each phase is in (for heartbeats) and the step within it.
        const epochOf = new Map<TrainingPhase['name'], number>();
        const epoch = (phase: TrainingPhase) => epochOf.get(phase.name) ?? 1;
        let step = 0;
        try {
          const result = await trainPhases(
            trainer.trainable(base.weights),
            phases,
            (phase) => ({
              async lossAndGradients(weights, batch) {
                const out = await trainer.lossAndGradients(
                  weights,
                  batch.map((p) => texts.get(p.queryId)!),
                  batch.map((p) => docText(p.docId)),
                );
                step++;
                heartbeat({ phase: phase.name, epoch: epoch(phase), step });
                return out;
              },
              async devScore(weights) {
                // The dev encoder's graph holds this epoch's weights as constants: built in scratch space, not cached.
                return withScratch(async (cacheDir) => {
                  const encoder = await DenseEncoder.open(trainer.withTrained(base.weights, weights), base.config, base.tokenizer, maxLength, { cacheDir });
                  try {
                    const beat: Beat = (d) => heartbeat({ phase: phase.name, epoch: epoch(phase), step, dev: d });
                    const lists = await denseRun(encoder, await encodeCorpus(encoder, devCorpus, beat), devQueries, beat);
                    return evaluateRun(devQrels, toRun(lists), { metrics: [{ kind: 'ndcg', k: 10 }] }).mean['ndcg@10']!;
                  } finally {
                    await encoder.release();
                  }
                });
              },
            }),
            {
              batchSize: r.batchSize,
              learningRate: r.learningRate,
              weightDecay: r.weightDecay,
              warmupFraction: r.warmupFraction,
              maxGradNorm: r.maxGradNorm,
              selectStartingEncoder: r.selectStartingEncoder,
              shuffle: seededPhaseShuffle(config.seed),
            },
            {
              async resumeFrom(phase) {
                const latest = (await store.list(checkpointPrefix(sc, phase.name))).at(-1);
                const checkpoint = latest === undefined ? undefined : deserializeCheckpoint(await store.get(latest), latest, layout);
                // A phase that resumes goes on at the epoch after its checkpoint.
                if (checkpoint) epochOf.set(phase.name, checkpoint.epoch + 1);
                return checkpoint;
              },
              async onEpoch(phase, c) {
                const key = checkpointKey(sc, phase.name, c.epoch);
                await store.put(key, serializeCheckpoint(c, layout));
                // Only the latest checkpoint of a phase is needed to resume; a MiniLM one is ~350 MB.
                for (const old of await store.list(checkpointPrefix(sc, phase.name))) if (old !== key) await store.delete(old);
                heartbeat({ phase: phase.name, epoch: c.epoch, step, checkpoint: key });
                epochOf.set(phase.name, c.epoch + 1);
                step = 0;
              },
            },
          );
          const bestWeights = trainer.withTrained(base.weights, result.best.weights);
          const out: TrainedRetriever = {
            system,
            encoder: await store.put(stageKey(sc, 'encoder/model.safetensors'), serializeSafetensors(bestWeights, { format: 'pt' })),
            encoderConfig: await store.put(stageKey(sc, 'encoder/config.json'), base.configJson),
            curve: result.curve.map((p) => ({ epoch: p.epoch, trainLoss: Number.isNaN(p.trainLoss) ? null : p.trainLoss, devScore: p.devScore })),
            bestEpoch: result.best.epoch,
            bestDevScore: result.best.devScore,
            weakEpochs: result.leadingEpochs,
            counts: { labeledPairs, weakPairs: pairs.length - labeledPairs, devQueries: dev.size },
          };
          await store.put(resultKey, JSON.stringify(out));
          for (const phase of phases) for (const old of await store.list(checkpointPrefix(sc, phase.name))) await store.delete(old);
          return out;
        } finally {
          await trainer.release();
        }
      });
    },

    async evaluateDense(input: EvaluateDenseInput): Promise<SystemEvaluation> {
      const { config, scope, prepared, system, encoder: trained } = input;
      if ((system === 'zero-shot') !== (trained === undefined)) {
        throw new ConfigError(`evaluateDense: system '${system}' ${trained ? 'cannot take a trained encoder' : 'needs the trained encoder from trainRetriever'}`);
      }
      const base = await baseEncoder(config.encoder);
      const maxLength = maxLengthOf(config, base);
      const weights = trained ? await loadTrainedWeights(store, trained, base.weights) : base.weights;
      const encoderId = trained ? trained.sha256 : base.digest;
      const settings = { encoder: encoderId, maxLength, pooling: 'mean-l2' };

      // A trained encoder's graph is used once per evaluation: scratch space, so the graph cache does not grow.
      return withScratch(async (scratch) => {
        const encoder = await DenseEncoder.open(weights, base.config, base.tokenizer, maxLength, { cacheDir: trained ? scratch : graphCacheDir });
        try {
          const docs = await corpusEmbeddings(store, scope, config.reuseArtifacts, prepared.corpus, settings, async () =>
            withLocalCopies(store, { corpus: prepared.corpus }, async (paths) => encodeCorpus(encoder, await loadCorpusTexts(paths['corpus']!), heartbeat)),
          );
          const sc = stageScope(scope, 'evaluate', { system, depth: RETRIEVAL_DEPTH, ...settings }, [prepared.corpus, prepared.queries, prepared.testQrels]);
          return await withLocalCopies(store, { queries: prepared.queries, qrels: prepared.testQrels }, async (paths, dir) => {
            const queryTexts = (await loadQueries(paths['queries']!)).value;
            const qrels = (await loadQrels(paths['qrels']!)).value;
            const lists = await denseRun(encoder, docs, queriesWithText(qrels.keys(), queryTexts), heartbeat);
            const evaluation = evaluateRun(qrels, toRun(lists));
            await writeRun(join(dir, `${system}.run`), lists, system);
            const perQuery = JSON.stringify({ queryIds: evaluation.queryIds, metrics: Object.fromEntries(Object.entries(evaluation.perQuery).map(([k, v]) => [k, [...v]])) });
            return {
              system,
              metrics: {
                ndcg10: evaluation.mean['ndcg@10']!,
                map100: evaluation.mean['map@100']!,
                recall100: evaluation.mean['recall@100']!,
                mrr10: evaluation.mean['mrr@10']!,
                queries: evaluation.queryIds.length,
              },
              run: await store.putFile(stageKey(sc, `${system}.run`), join(dir, `${system}.run`)),
              perQuery: await store.put(stageKey(sc, `${system}.per-query.json`), perQuery),
            };
          });
        } finally {
          await encoder.release();
        }
      });
    },
  };
}

/** Corpus embeddings, stored once per (corpus, encoder weights, settings) and reused by every evaluation. */
async function corpusEmbeddings(
  store: ArtifactStore,
  scope: string,
  reuse: boolean,
  corpus: ArtifactRef,
  settings: Record<string, unknown>,
  compute: () => Promise<EmbeddingMatrix>,
): Promise<EmbeddingMatrix> {
  const key = stageKey(stageScope(scope, 'corpus-embeddings', settings, [corpus]), 'corpus.f32');
  if (reuse) {
    const existing = await store.stat(key);
    if (existing) {
      // The corpus part of an evaluation is the costly one: an evaluation that reads stored embeddings counts as reused.
      markReused();
      return deserializeEmbeddings(await store.get(existing), key);
    }
  }
  const matrix = await compute();
  await store.put(key, serializeEmbeddings(matrix));
  return matrix;
}

/** Trained weights in place of the base ones; every base tensor must be present with its shape. */
async function loadTrainedWeights(store: ArtifactStore, ref: ArtifactRef, base: WeightMap): Promise<Map<string, WeightTensor>> {
  const trained = normaliseCheckpointNames(parseSafetensors(await store.get(ref), ref.key).weights);
  const out = new Map<string, WeightTensor>();
  for (const [name, t] of base) {
    const w = trained.get(name);
    if (!w || w.dims.length !== t.dims.length || w.dims.some((d, i) => d !== t.dims[i])) {
      throw new CorruptArtifactError(`${ref.key}: tensor '${name}' is missing or has another shape than the configured encoder's; the encoder was trained from another base model`);
    }
    out.set(name, w);
  }
  return out;
}

export type RetrieverActivities = ReturnType<typeof createRetrieverActivities>;
