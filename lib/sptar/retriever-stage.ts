// The dense retriever's training stage as one function of its config slice, its data and the starting encoder: the
// trainer, the phases of the weak schedule with the pipeline's seeded shuffles, and each epoch's dev score (nDCG@10
// of the dev queries over the dev corpus) that selects the epoch. Progress goes out through `heartbeat`, durable
// checkpoints through `checkpoints` (the activity keeps them in the artifact store), and a benchmark can score more
// queries with each epoch's encoder through `onDevScore`.
import type { ProgressBeat, ProgressUpdate } from '../../common/activity-progress.ts';
import type { DevCurvePoint } from '../../common/retriever-types.ts';
import { encoderPrecision, type RetrieverConfig } from '../../common/stage-configs.ts';
import { withScratch } from '../artifact-store/local-copies.ts';
import { encoderMaxLength, type EncoderModel } from '../models/encoder-source.ts';
import type { WeightMap } from '../models/model-config.ts';
import type { EmbeddingMatrix } from '../retrieval/dense-search.ts';
import { encodeCorpus, retrieveAndEvaluate } from '../retrieval/dense-retrieval.ts';
import type { RankedList } from '../beir/index.ts';
import { evaluateRun } from '../metrics/index.ts';
import { chooseFusionWeight, fuseMinMax } from '../retrieval/hybrid-fusion.ts';
import { toRun } from '../retrieval/dense-retrieval.ts';
import { DenseEncoder, EncoderTrainer } from './dense-encoder.ts';
import { batchNegatives } from './hard-negatives.ts';
import { deserializeCheckpoint, serializeCheckpoint, type TrainableLayout } from './retriever-checkpoints.ts';
import type { RetrieverTrainingData } from './retriever-data.ts';
import { seededPhaseShuffle, trainingPhases, trainPhases, type TrainingPhase } from './retriever-training.ts';

export type TrainingPhaseName = TrainingPhase['name'];

/** Where a checkpoint was taken: at the end of epoch `epoch`, or after `step` optimizer steps of epoch `epoch`. */
export interface CheckpointPosition {
  readonly epoch: number;
  readonly step?: number;
}

/** Where checkpoints live between attempts; only the latest of a phase is ever needed. */
export interface CheckpointStore {
  /** The latest checkpoint of a phase and its name (for error messages), or undefined. */
  latest(phase: TrainingPhaseName): Promise<{ readonly bytes: Uint8Array; readonly source: string } | undefined>;
  /**
   * Stores a phase's checkpoint taken `at` (and may drop its older ones); returns its name for heartbeats. Positions
   * of a phase come in training order, and `latest` must give the one saved last.
   */
  save(phase: TrainingPhaseName, at: CheckpointPosition, bytes: Uint8Array): Promise<string>;
  /** Drops every checkpoint of a phase. */
  clear(phase: TrainingPhaseName): Promise<void>;
}

/** One epoch's dev score, with the encoder of that epoch still open. */
export interface DevScored {
  readonly phase: TrainingPhaseName;
  /** The epoch on the whole curve (numbered on across phases; 0 = the starting encoder). */
  readonly epoch: number;
  readonly devScore: number;
  readonly encoder: DenseEncoder;
  /** The dev corpus encoded by this epoch's encoder. */
  readonly devEmbeddings: EmbeddingMatrix;
}

export interface RetrieverStageHooks {
  /** Progress in training steps over every epoch of every phase, with each dev search as the record's `part`. */
  readonly heartbeat?: ProgressBeat;
  /** Cache of the trainer's graph (the dev encoders' graphs hold an epoch's weights and are built in scratch space). */
  readonly graphCacheDir?: string;
  readonly checkpoints?: CheckpointStore;
  readonly onDevScore?: (scored: DevScored) => Promise<void>;
  /** Seed of the pair order (default: the config's); a further replicate of a training passes its own. */
  readonly seed?: number;
  /**
   * The starting encoder's dev score, shared by every training from the same encoder on the same dev split: `load`
   * gives it when known (its dev search is then skipped), `save` keeps the one this training measured.
   */
  readonly startingDevScore?: { readonly load: () => Promise<number | undefined>; readonly save: (score: number) => Promise<void> };
}

/** The dev queries' scores under the selected encoder, and BM25 fused with it at the weight the dev queries chose. */
export interface DevOutcome {
  /** Dev query ids, sorted: the order of every per-query array. */
  readonly queryIds: readonly string[];
  /** nDCG@10 of each dev query under the selected epoch's encoder. */
  readonly ndcg10: readonly number[];
  readonly fusion?: {
    /** Weight of the dense scores (1 - weight on BM25's), min-max normalised per query. */
    readonly denseWeight: number;
    /** Mean dev nDCG@10 of the fused run at that weight. */
    readonly devScore: number;
    readonly ndcg10: readonly number[];
    readonly grid: readonly { readonly weight: number; readonly score: number }[];
  };
}

/** The trained retriever: the best epoch's full weight map and how training went. */
export interface TrainedEncoder {
  readonly weights: WeightMap;
  readonly curve: DevCurvePoint[];
  readonly bestEpoch: number;
  readonly bestDevScore: number;
  /** Leading epochs of the curve that trained on the weak pairs alone (0 for the mixed schedule). */
  readonly weakEpochs: number;
  readonly counts: { readonly labeledPairs: number; readonly weakPairs: number; readonly devQueries: number };
  readonly dev: DevOutcome;
}

interface DevSearch {
  readonly devScore: number;
  readonly lists: RankedList[];
  readonly queryIds: readonly string[];
  readonly ndcg10: number[];
}

type Publish<T> = { readonly publish: (trained: TrainedEncoder) => Promise<T> };

/**
 * Trains the retriever from `base`: each phase resumes from its latest checkpoint and stores one per epoch and one
 * every `retriever.checkpointEverySteps` optimizer steps inside an epoch (a retry then continues at that step). With
 * `publish`, the trained encoder is handed to it (to store the outputs) and only then are the checkpoints cleared, so
 * a failure in between resumes instead of training again.
 */
export function trainRetrieverStage(config: RetrieverConfig, data: RetrieverTrainingData, base: EncoderModel, hooks?: RetrieverStageHooks): Promise<TrainedEncoder>;
export function trainRetrieverStage<T>(config: RetrieverConfig, data: RetrieverTrainingData, base: EncoderModel, hooks: RetrieverStageHooks & Publish<T>): Promise<T>;
export async function trainRetrieverStage(config: RetrieverConfig, data: RetrieverTrainingData, base: EncoderModel, hooks: RetrieverStageHooks & Partial<Publish<unknown>> = {}): Promise<unknown> {
  const r = config.retriever;
  const { corpus, pairs, dev } = data;
  const heartbeat: ProgressBeat = hooks.heartbeat ?? (() => undefined);
  const checkpoints = hooks.checkpoints;
  const maxLength = encoderMaxLength(config, base.config);
  const docText = (docId: string) => corpus.texts[corpus.position.get(docId)!]!;
  const phases = trainingPhases(pairs.labeled, pairs.weak, r.weakSchedule, r.epochs, r.weakEpochs);
  // Where each phase's epochs start on the whole curve.
  const offsets = new Map<TrainingPhaseName, number>();
  let offset = 0;
  for (const phase of phases) {
    offsets.set(phase.name, offset);
    offset += phase.epochs;
  }
  // Steps of every epoch of every phase: ceil(pairs / batch) until the epoch's batches are built (a pair whose query
  // or document is in the batch already waits for the next one, so an epoch can take a few steps more).
  const epochSteps = phases.map((phase) => Array.from({ length: phase.epochs }, () => Math.ceil(phase.pairs.length / r.batchSize)));
  const phaseIndex = (phase: TrainingPhase) => phases.findIndex((p) => p.name === phase.name);
  const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);
  const totalSteps = () => sum(epochSteps.flat());
  heartbeat({ stage: 'train-retrievers', task: 'building the training graph', unit: 'steps', done: 0, total: totalSteps() });

  const trainer = await EncoderTrainer.open(base.weights, base.config, base.tokenizer, { scale: r.similarityScale, maxLength }, { cacheDir: hooks.graphCacheDir });
  let trained: TrainedEncoder;
  try {
    // Each scored epoch's dev lists and per-query scores: the selected epoch's feed the fusion weight and the gate.
    const devByEpoch = new Map<number, DevSearch>();
    const searchDev = (weights: readonly Float32Array[], task: string, phase: TrainingPhase, scoredEpoch: number): Promise<DevSearch> =>
      // The dev encoder's graph holds this epoch's weights as constants: built in scratch space, not cached.
      withScratch(async (cacheDir) => {
        const encoder = await DenseEncoder.open(trainer.withTrained(base.weights, weights), base.config, base.tokenizer, maxLength, { cacheDir }, { precision: encoderPrecision(config) });
        try {
          const devEmbeddings = await encodeCorpus(encoder, dev.corpus, (done, total) => progress(phase, task, { part: { unit: 'documents', done, total } }));
          const { evaluation, lists } = await retrieveAndEvaluate(encoder, devEmbeddings, dev.queries, dev.qrels, (done, total) => progress(phase, task, { part: { unit: 'queries', done, total } }), {
            metrics: [{ kind: 'ndcg', k: 10 }],
          });
          const devScore = evaluation.mean['ndcg@10']!;
          await hooks.onDevScore?.({ phase: phase.name, epoch: scoredEpoch, devScore, encoder, devEmbeddings });
          return { devScore, lists, queryIds: evaluation.queryIds, ndcg10: [...evaluation.perQuery['ndcg@10']!] };
        } finally {
          await encoder.release();
        }
      });
    const layout: TrainableLayout = { names: trainer.weightNames, shapes: new Map(trainer.weightNames.map((n) => [n, base.weights.get(n)!.dims])) };
    // The epoch each phase is in (for heartbeats) and the steps done within it.
    const epochOf = new Map<TrainingPhaseName, number>();
    const epoch = (phase: TrainingPhase) => epochOf.get(phase.name) ?? 1;
    const stepOf = new Map<TrainingPhaseName, number>();
    const step = (phase: TrainingPhase) => stepOf.get(phase.name) ?? 0;
    const stepsDone = (phase: TrainingPhase) => {
      const i = phaseIndex(phase);
      return sum(epochSteps.slice(0, i).flat()) + sum(epochSteps[i]!.slice(0, epoch(phase) - 1)) + step(phase);
    };
    const progress = (phase: TrainingPhase, task: string, extra: Pick<ProgressUpdate, 'part' | 'checkpoint'> = {}): void =>
      heartbeat({
        stage: 'train-retrievers',
        task,
        unit: 'steps',
        done: stepsDone(phase),
        total: totalSteps(),
        phase: phase.name,
        epoch: Math.min(epoch(phase), phase.epochs),
        epochs: phase.epochs,
        ...extra,
      });
    const knownStart = await hooks.startingDevScore?.load();
    const result = await trainPhases(
      trainer.trainable(base.weights),
      phases,
      (phase) => ({
        async lossAndGradients(weights, batch) {
          // Hard negatives follow the batch's positives; the loss treats every document after them as a negative.
          const negatives = data.negatives ? batchNegatives(batch, data.negatives.mined, data.negatives.positives) : [];
          const out = await trainer.lossAndGradients(
            weights,
            batch.map((p) => pairs.texts.get(p.queryId)!),
            [...batch.map((p) => docText(p.docId)), ...negatives.map(docText)],
          );
          stepOf.set(phase.name, step(phase) + 1);
          progress(phase, 'training');
          return out;
        },
        async devScore(weights) {
          // Before the phase's first step this scores the encoder the phase starts from.
          const started = step(phase) > 0;
          const scoredEpoch = offsets.get(phase.name)! + (started ? epoch(phase) : epoch(phase) - 1);
          const task = started ? 'dev search' : 'dev search of the starting encoder';
          const scored = await searchDev(weights, task, phase, scoredEpoch);
          devByEpoch.set(scoredEpoch, scored);
          return scored.devScore;
        },
      }),
      {
        batchSize: r.batchSize,
        learningRate: r.learningRate,
        weightDecay: r.weightDecay,
        warmupFraction: r.warmupFraction,
        maxGradNorm: r.maxGradNorm,
        selectStartingEncoder: r.selectStartingEncoder,
        ...(r.checkpointEverySteps !== null && checkpoints ? { checkpointEverySteps: r.checkpointEverySteps } : {}),
        shuffle: seededPhaseShuffle(hooks.seed ?? config.seed),
      },
      {
        async resumeFrom(phase) {
          const latest = await checkpoints?.latest(phase.name);
          const checkpoint = latest === undefined ? undefined : deserializeCheckpoint(latest.bytes, latest.source, layout);
          // A phase that resumes goes on at the epoch after its checkpoint, after the steps a step checkpoint covers.
          if (checkpoint) {
            epochOf.set(phase.name, checkpoint.epoch + 1);
            stepOf.set(phase.name, checkpoint.within?.steps ?? 0);
          }
          return checkpoint;
        },
        async onEpoch(phase, c) {
          const saved = checkpoints && (await checkpoints.save(phase.name, { epoch: c.epoch }, serializeCheckpoint(c, layout)));
          progress(phase, 'training', saved === undefined ? {} : { checkpoint: saved });
          epochOf.set(phase.name, c.epoch + 1);
          stepOf.set(phase.name, 0);
        },
        async onStepCheckpoint(phase, c) {
          // Only called with a store and on checkpoints inside an epoch (checkpointEverySteps is set only with one).
          if (!checkpoints || !c.within) return;
          const saved = await checkpoints.save(phase.name, { epoch: c.epoch + 1, step: c.within.steps }, serializeCheckpoint(c, layout));
          progress(phase, 'training', { checkpoint: saved });
        },
        onEpochStart(phase, e, steps) {
          epochSteps[phaseIndex(phase)]![e - 1] = steps;
        },
        ...(knownStart !== undefined ? { startDevScore: knownStart } : {}),
      },
    );
    if (knownStart === undefined && result.curve[0]) await hooks.startingDevScore?.save(result.curve[0].devScore);
    // A resumed training may have scored its selected epoch in an earlier attempt: score it once more.
    const selected = devByEpoch.get(result.best.epoch) ?? (await searchDev(result.best.weights, 'dev search of the selected epoch', phases.at(-1)!, result.best.epoch));
    let fusion: DevOutcome['fusion'];
    if (data.devBm25) {
      const denseRun = toRun(selected.lists);
      const chosen = chooseFusionWeight(dev.qrels, data.devBm25, denseRun);
      const fused = evaluateRun(dev.qrels, fuseMinMax(data.devBm25, denseRun, chosen.weight), { metrics: [{ kind: 'ndcg', k: 10 }] });
      fusion = { denseWeight: chosen.weight, devScore: chosen.score, ndcg10: [...fused.perQuery['ndcg@10']!], grid: chosen.scores };
    }
    trained = {
      dev: { queryIds: selected.queryIds, ndcg10: selected.ndcg10, ...(fusion ? { fusion } : {}) },
      weights: trainer.withTrained(base.weights, result.best.weights),
      curve: result.curve.map((p) => ({ epoch: p.epoch, trainLoss: Number.isNaN(p.trainLoss) ? null : p.trainLoss, devScore: p.devScore })),
      bestEpoch: result.best.epoch,
      bestDevScore: result.best.devScore,
      weakEpochs: result.leadingEpochs,
      counts: { labeledPairs: pairs.labeled.length, weakPairs: pairs.weak.length, devQueries: dev.queryIds.size },
    };
  } finally {
    await trainer.release();
  }
  const out = hooks.publish ? await hooks.publish(trained) : trained;
  if (checkpoints) for (const phase of phases) await checkpoints.clear(phase.name);
  return out;
}
