import { CorruptArtifactError } from '../../common/errors.ts';
import { createPrng, shuffled } from '../random/prng.ts';
import { AdamW, clipGradNorm, linearSchedule, type AdamWState } from '../training/adamw.ts';

// Dense retriever training as in the SPTAR authors' DPR recipe: shared encoder, in-batch negatives (the loss and
// its gradients come from the engine), AdamW lr 2e-5, weight decay 0.01, 10% linear warm-up then linear decay,
// global gradient clipping at 1.0, and the epoch chosen by a dev score computed from labeled data only.

export interface TrainingPair {
  readonly queryId: string;
  readonly docId: string;
}

export interface RetrieverObjective {
  /** Loss of one batch (in-batch negatives) and the gradient of every weight tensor, in `weights` order. */
  lossAndGradients(weights: readonly Float32Array[], batch: readonly TrainingPair[]): Promise<{ loss: number; gradients: Float32Array[] }>;
  /** Higher is better (e.g. nDCG@10 on the dev queries). */
  devScore(weights: readonly Float32Array[]): Promise<number>;
}

export interface RetrieverTrainingOptions {
  readonly epochs: number;
  readonly batchSize: number;
  readonly learningRate: number;
  readonly weightDecay: number;
  readonly warmupFraction: number;
  readonly maxGradNorm: number;
  readonly shuffle: (n: number, epoch: number) => number[];
  /**
   * Whether the starting encoder (epoch 0) competes in the epoch selection. The authors select among trained
   * epochs; with a pretrained encoder and a small dev split, letting epoch 0 compete can keep the untrained encoder
   * on dev noise alone (the promotion gate is the place to refuse a worse retriever).
   */
  readonly selectStartingEncoder?: boolean;
  /**
   * Optimizer steps between the step checkpoints taken inside an epoch (`onStepCheckpoint`); none after an epoch's
   * last step, which its epoch checkpoint covers. Absent: epoch checkpoints only.
   */
  readonly checkpointEverySteps?: number;
}

/** The best epoch so far: its number, dev score and weights. */
export interface BestEpoch {
  readonly epoch: number;
  readonly devScore: number;
  readonly weights: readonly Float32Array[];
}

/**
 * Everything a training run continues from. An epoch checkpoint is taken after epoch `epoch`; a step checkpoint (with
 * `within`) inside epoch `epoch + 1`, after its first `within.steps` batches. An epoch's batches depend only on the
 * pairs, the seeded shuffle of that epoch and the batch size, so a resumed run rebuilds them and skips the ones done.
 */
export interface RetrieverCheckpoint {
  /** Epochs finished. */
  readonly epoch: number;
  readonly weights: readonly Float32Array[];
  readonly optimizer: AdamWState;
  /** Absent only in a step checkpoint of the first epoch when the starting encoder does not compete. */
  readonly best: BestEpoch | undefined;
  readonly curve: readonly { readonly epoch: number; readonly trainLoss: number; readonly devScore: number }[];
  /** Progress inside epoch `epoch + 1`: batches done and the sum of their losses (the epoch's mean loss needs it). */
  readonly within?: { readonly steps: number; readonly lossSum: number };
}

/**
 * Splits pairs (in the given order) into batches where no query and no document appears twice, so an in-batch
 * negative is never a positive. A pair that clashes waits for the next batch.
 */
export function batchesWithoutDuplicates(pairs: readonly TrainingPair[], order: readonly number[], batchSize: number): TrainingPair[][] {
  const batches: TrainingPair[][] = [];
  let pending = order.map((i) => pairs[i]!);
  while (pending.length > 0) {
    const batch: TrainingPair[] = [];
    const q = new Set<string>();
    const d = new Set<string>();
    const rest: TrainingPair[] = [];
    for (const p of pending) {
      if (batch.length < batchSize && !q.has(p.queryId) && !d.has(p.docId)) {
        batch.push(p);
        q.add(p.queryId);
        d.add(p.docId);
      } else rest.push(p);
    }
    batches.push(batch);
    pending = rest;
  }
  return batches;
}

export async function trainRetriever(
  initial: readonly Float32Array[],
  pairs: readonly TrainingPair[],
  objective: RetrieverObjective,
  options: RetrieverTrainingOptions,
  hooks: {
    resumeFrom?: RetrieverCheckpoint;
    onEpoch?: (c: RetrieverCheckpoint) => Promise<void>;
    /** Every `options.checkpointEverySteps` steps inside an epoch, with a checkpoint holding `within`. */
    onStepCheckpoint?: (c: RetrieverCheckpoint) => Promise<void>;
    /** Called once an epoch's batches are built, with their number (progress totals). */
    onEpochStart?: (epoch: number, steps: number) => void;
    /** The dev score of `initial` when it is already known (a later phase starting from an earlier one's encoder). */
    startDevScore?: number;
  } = {},
): Promise<{ best: BestEpoch; curve: RetrieverCheckpoint['curve'] }> {
  if (pairs.length === 0) throw new Error('retriever training needs at least one labeled pair');
  const every = options.checkpointEverySteps;
  if (every !== undefined && !(Number.isInteger(every) && every > 0)) throw new RangeError(`checkpointEverySteps must be a positive integer, got ${every}`);
  const r = hooks.resumeFrom;
  const weights = (r?.weights ?? initial).map((w) => Float32Array.from(w));
  const optimizer = new AdamW(weights.map((w) => w.length), { weightDecay: options.weightDecay }, r?.optimizer);
  const stepsPerEpoch = Math.ceil(pairs.length / options.batchSize);
  const totalSteps = stepsPerEpoch * options.epochs;
  const warmup = Math.floor(totalSteps * options.warmupFraction);
  let best: BestEpoch | undefined = r?.best;
  let curve: RetrieverCheckpoint['curve'][number][];
  if (r) curve = [...r.curve];
  else {
    const startScore = hooks.startDevScore ?? (await objective.devScore(weights));
    curve = [{ epoch: 0, trainLoss: Number.NaN, devScore: startScore }];
    if (options.selectStartingEncoder) best = { epoch: 0, devScore: startScore, weights: weights.map((w) => Float32Array.from(w)) };
  }

  const firstEpoch = (r?.epoch ?? 0) + 1;
  for (let epoch = firstEpoch; epoch <= options.epochs; epoch++) {
    // A step checkpoint resumes its epoch after the batches it covers, with their summed loss.
    const within = epoch === firstEpoch ? r?.within : undefined;
    let sum = within?.lossSum ?? 0;
    const batches = batchesWithoutDuplicates(pairs, options.shuffle(pairs.length, epoch), options.batchSize);
    if (within && !(Number.isInteger(within.steps) && within.steps > 0 && within.steps < batches.length)) {
      throw new CorruptArtifactError(`a step checkpoint of epoch ${epoch} covers ${within.steps} steps, but the epoch has ${batches.length}; it belongs to other training pairs`);
    }
    hooks.onEpochStart?.(epoch, batches.length);
    for (let s = within?.steps ?? 0; s < batches.length; s++) {
      const { loss, gradients } = await objective.lossAndGradients(weights, batches[s]!);
      sum += loss;
      clipGradNorm(gradients, options.maxGradNorm);
      optimizer.step(weights, gradients, linearSchedule(optimizer.state.step, totalSteps, warmup, options.learningRate));
      const steps = s + 1;
      if (every !== undefined && steps % every === 0 && steps < batches.length) {
        await hooks.onStepCheckpoint?.({ epoch: epoch - 1, weights, optimizer: optimizer.state, best, curve, within: { steps, lossSum: sum } });
      }
    }
    const devScore = await objective.devScore(weights);
    curve.push({ epoch, trainLoss: sum / batches.length, devScore });
    if (best === undefined || devScore > best.devScore) best = { epoch, devScore, weights: weights.map((w) => Float32Array.from(w)) };
    await hooks.onEpoch?.({ epoch, weights, optimizer: optimizer.state, best, curve });
  }
  // epochs >= 1, so a trained epoch was always considered.
  return { best: best!, curve };
}

/**
 * How weak pairs meet labeled ones. `mixed`: one phase over labeled + weak pairs shuffled together (the authors'
 * recipe). `weak-first`: a phase over the weak pairs alone, then a phase over the labeled pairs that starts from the
 * weak phase's selected encoder, so the labeled pairs (few, but exact) have the last word.
 */
export type WeakSchedule = 'mixed' | 'weak-first';

export interface TrainingPhase {
  readonly name: 'mixed' | 'weak' | 'labeled';
  readonly pairs: readonly TrainingPair[];
  readonly epochs: number;
}

/**
 * The seeded pair order of each epoch of each phase, as the pipeline trains: the mixed phase keeps the seed names of
 * runs before phases existed, so their results still match.
 */
export function seededPhaseShuffle(seed: number): (phase: TrainingPhase, n: number, epoch: number) => number[] {
  return (phase, n, e) => shuffled(Array.from({ length: n }, (_, i) => i), createPrng(seed, phase.name === 'mixed' ? `retriever-epoch-${e}` : `retriever-${phase.name}-epoch-${e}`));
}

/** The phases of a schedule; without weak pairs every schedule is one mixed phase over the labeled pairs. */
export function trainingPhases(labeled: readonly TrainingPair[], weak: readonly TrainingPair[], schedule: WeakSchedule, epochs: number, weakEpochs: number): TrainingPhase[] {
  if (schedule === 'weak-first' && weak.length > 0) {
    return [
      { name: 'weak', pairs: weak, epochs: weakEpochs },
      { name: 'labeled', pairs: labeled, epochs },
    ];
  }
  return [{ name: 'mixed', pairs: [...labeled, ...weak], epochs }];
}

/**
 * Runs the phases in order, each with the training loop above, the next starting from the previous one's selected
 * encoder. Each phase resumes from its own latest checkpoint; a finished earlier phase is taken from its last
 * checkpoint (which must be kept until the whole training is done). The returned curve numbers the epochs on across
 * phases (a later phase's epoch 0 is the encoder it started from, already on the curve), and so does the best epoch.
 */
export async function trainPhases(
  initial: readonly Float32Array[],
  phases: readonly TrainingPhase[],
  objective: (phase: TrainingPhase) => RetrieverObjective,
  options: Omit<RetrieverTrainingOptions, 'epochs' | 'shuffle'> & { readonly shuffle: (phase: TrainingPhase, n: number, epoch: number) => number[] },
  hooks: {
    resumeFrom?: (phase: TrainingPhase) => Promise<RetrieverCheckpoint | undefined>;
    onEpoch?: (phase: TrainingPhase, c: RetrieverCheckpoint) => Promise<void>;
    onStepCheckpoint?: (phase: TrainingPhase, c: RetrieverCheckpoint) => Promise<void>;
    onEpochStart?: (phase: TrainingPhase, epoch: number, steps: number) => void;
    /** The dev score of `initial` when it is already known (another training from the same encoder on the same dev split). */
    startDevScore?: number;
  } = {},
): Promise<{ best: BestEpoch; curve: RetrieverCheckpoint['curve']; leadingEpochs: number }> {
  if (phases.length === 0) throw new Error('retriever training needs at least one phase');
  const resumes: (RetrieverCheckpoint | undefined)[] = [];
  for (const p of phases) resumes.push(hooks.resumeFrom ? await hooks.resumeFrom(p) : undefined);
  let lastResumed = -1;
  resumes.forEach((r, i) => {
    if (r !== undefined) lastResumed = i;
  });
  for (let i = 0; i < lastResumed; i++) {
    const r = resumes[i];
    if (r === undefined || r.epoch < phases[i]!.epochs) {
      throw new CorruptArtifactError(
        `training phase '${phases[lastResumed]!.name}' has a checkpoint but the earlier phase '${phases[i]!.name}' has no finished one; delete the stage's checkpoints to train again`,
      );
    }
  }
  let start = initial;
  let offset = 0;
  let curve: RetrieverCheckpoint['curve'][number][] = [];
  let best: BestEpoch | undefined;
  for (const [i, phase] of phases.entries()) {
    const resumeFrom = resumes[i];
    const isLast = i === phases.length - 1;
    const finished = !isLast && resumeFrom !== undefined && resumeFrom.epoch >= phase.epochs ? finishedPhase(phase, resumeFrom) : undefined;
    const result =
      finished ??
      (await trainRetriever(start, phase.pairs, objective(phase), { ...options, epochs: phase.epochs, shuffle: (n, e) => options.shuffle(phase, n, e) }, {
        resumeFrom,
        onEpoch: hooks.onEpoch && ((c) => hooks.onEpoch!(phase, c)),
        onStepCheckpoint: hooks.onStepCheckpoint && ((c) => hooks.onStepCheckpoint!(phase, c)),
        onEpochStart: hooks.onEpochStart && ((e, steps) => hooks.onEpochStart!(phase, e, steps)),
        ...(best !== undefined ? { startDevScore: best.devScore } : hooks.startDevScore !== undefined ? { startDevScore: hooks.startDevScore } : {}),
      }));
    const shifted = result.curve.filter((p) => i === 0 || p.epoch > 0).map((p) => ({ ...p, epoch: p.epoch + offset }));
    curve = [...curve, ...shifted];
    best = { ...result.best, epoch: result.best.epoch + offset };
    start = result.best.weights;
    if (!isLast) offset += phase.epochs;
  }
  return { best: best!, curve, leadingEpochs: offset };
}

/** The outcome of an earlier phase that its last epoch checkpoint holds. */
function finishedPhase(phase: TrainingPhase, c: RetrieverCheckpoint): { best: BestEpoch; curve: RetrieverCheckpoint['curve'] } {
  if (c.best === undefined || c.within !== undefined) {
    throw new CorruptArtifactError(`the last checkpoint of training phase '${phase.name}' is not an epoch checkpoint with a selected epoch; delete the stage's checkpoints to train again`);
  }
  return { best: c.best, curve: c.curve };
}
